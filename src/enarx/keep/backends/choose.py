"""Which backends exist here, and which one a Keep uses.

Release backends (``snp``, ``tdx``, ``sgx``) ship with ``enarx``; others come only from
installed plugins through the ``enarx.backends`` entry point group (the debug build's
``nil``). A plugin can never replace a release backend, and one that fails to load is shown
as a failed backend, not a crash.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final, Protocol

from enarx.keep.backends.base import Backend, BackendError, Check, Evidence
from enarx.keep.backends.configfs_tsm import DEFAULT_TSM_ROOT
from enarx.keep.backends.hostcache import DEFAULT_CACHE_ROOT, HostCache
from enarx.keep.backends.sgx import DEFAULT_ATTESTATION_DEV, SgxBackend
from enarx.keep.backends.snp import SnpBackend
from enarx.keep.backends.tdx import TdxBackend
from enarx.keep.plugins import plugin_entries

ENTRY_POINT_GROUP: Final = "enarx.backends"


class EntryPoint(Protocol):
    """What we use of ``importlib.metadata.EntryPoint`` (our light reader gives the same)."""

    @property
    def name(self) -> str: ...

    @property
    def value(self) -> str: ...

    @property
    def dist(self) -> Any: ...

    def load(self) -> Any: ...
#: Environment overrides of the paths (tests, containers that mount them elsewhere).
ENV_TSM_ROOT: Final = "ENARX_TSM_ROOT"
ENV_ATTESTATION_DEV: Final = "ENARX_ATTESTATION_DEV"
ENV_CACHE_ROOT: Final = "ENARX_CACHE_ROOT"


def release_backends(
    *,
    tsm_root: Path = DEFAULT_TSM_ROOT,
    attestation_dev: Path = DEFAULT_ATTESTATION_DEV,
    cache_root: Path = DEFAULT_CACHE_ROOT,
) -> list[Backend]:
    """``snp``, ``tdx``, ``sgx``, in the order an automatic choice tries them."""
    cache = HostCache(Path(cache_root))
    return [
        SnpBackend(tsm_root=Path(tsm_root), cache=cache),
        TdxBackend(tsm_root=Path(tsm_root), cache=cache),
        SgxBackend(attestation_dev=Path(attestation_dev), cache=cache),
    ]


def release_backends_from_env(environ: Mapping[str, str]) -> list[Backend]:
    """:func:`release_backends` with ``ENARX_TSM_ROOT``, ``ENARX_ATTESTATION_DEV`` and
    ``ENARX_CACHE_ROOT`` applied (unset or empty: the defaults)."""
    return release_backends(
        tsm_root=Path(environ.get(ENV_TSM_ROOT) or DEFAULT_TSM_ROOT),
        attestation_dev=Path(environ.get(ENV_ATTESTATION_DEV) or DEFAULT_ATTESTATION_DEV),
        cache_root=Path(environ.get(ENV_CACHE_ROOT) or DEFAULT_CACHE_ROOT),
    )


class UnloadableBackend:
    """Stands for a plugin backend that failed to load: shown, never selected."""

    key_curve = "P-256"
    insecure = True  # unknown code: assume the worst

    def __init__(self, name: str, detail: str, hint: str) -> None:
        self.name = name
        self._check = Check(f"plugin {name}", False, detail, hint=hint)

    def checks(self) -> list[Check]:
        return [self._check]

    def available(self) -> bool:
        return False

    def evidence(self, report_data: bytes) -> Evidence:
        raise BackendError(f"backend {self.name}: {self._check.detail}", code="backend.unavailable", hint=self._check.hint)


def plugin_backends(
    taken: Iterable[str] = (),
    *,
    load: Callable[[], Iterable[EntryPoint]] = lambda: plugin_entries(ENTRY_POINT_GROUP),
) -> list[Backend]:
    """Backends registered by installed plugins; each entry point is a callable returning one."""
    seen = set(taken)
    out: list[Backend] = []
    for ep in sorted(load(), key=lambda e: e.name):
        where = f"{ep.value} ({ep.dist.name if ep.dist else 'unknown distribution'})"
        try:
            backend = ep.load()()
        except Exception as exc:  # a broken plugin is reported, never fatal
            out.append(UnloadableBackend(ep.name, f"{where} failed to load: {type(exc).__name__}: {exc}", "reinstall or remove the plugin"))
            continue
        if not isinstance(backend, Backend):
            out.append(UnloadableBackend(ep.name, f"{where} did not return a backend", "the plugin does not match this enarx"))
            continue
        if backend.name in seen:
            out.append(UnloadableBackend(ep.name, f"{where} would replace the backend {backend.name!r}", "remove the plugin"))
            continue
        seen.add(backend.name)
        out.append(backend)
    return out


def all_backends(environ: Mapping[str, str]) -> list[Backend]:
    """Release backends, then the plugins'."""
    release = release_backends_from_env(environ)
    return [*release, *plugin_backends(b.name for b in release)]


def _failed(backend: Backend) -> str:
    failed = [c for c in backend.checks() if not c.passed] or [Check("available", False, "reports unavailable")]
    return "; ".join(f"{c.name}: {c.detail}" + (f" (hint: {c.hint})" if c.hint else "") for c in failed)


def select_backend(name: str | None, backends: Sequence[Backend]) -> Backend:
    """The backend called ``name``, or (None) the first available; :class:`BackendError` naming
    every failed check and its hint otherwise (codes ``backend.unknown``, ``backend.unavailable``)."""
    if name is not None:
        found = [b for b in backends if b.name == name]
        if not found:
            known = ", ".join(b.name for b in backends) or "none"
            raise BackendError(f"Keep backend {name!r} is unknown (known here: {known})", code="backend.unknown", hint="see `enarx platform info`")
        backend = found[0]
        if not backend.available():
            raise BackendError(f"Keep backend {name!r} is not available: {_failed(backend)}", code="backend.unavailable")
        return backend
    for backend in backends:
        if backend.available():
            return backend
    if not backends:
        raise BackendError("no Keep backend is installed", code="backend.unavailable", hint="reinstall enarx")
    reasons = " | ".join(f"{b.name}: {_failed(b)}" for b in backends)
    raise BackendError(f"no Keep backend is available here: {reasons}", code="backend.unavailable")
