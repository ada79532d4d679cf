"""Everything ``enarx run`` and ``enarx deploy`` do before and around running a module.

1. Load the configuration (with the ``[test]`` overlay for ``--test``).
2. Pick the backend: the first TEE available here; the nil backend only in test and unsafe
   runs of the debug build (a secure run never falls back to "no TEE").
3. List the insecure reasons; a secure run refuses any, naming them all.
4. Attest: fresh key, evidence, claims, CSR, Steward -> the Keep's certificate. ``--test``
   without a steward uses the debug build's in-process test Steward.
5. Run the module with that identity.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, NamedTuple, TextIO

from enarx.config.load import LoadedConfig, load_config
from enarx.errors import EnarxError
from enarx.keep.engine import ModuleCache
from enarx.keep.modes import InsecureDeployment, Mode, insecure_reasons
from enarx.keep.plugins import TestSteward, require_debug
from enarx.keep.runner import RunOutcome, run_module
from enarx.keep.workload import DEFAULT_STDIO, HostStdio

if TYPE_CHECKING:
    from enarx.keep.backends.base import Backend
    from enarx.keep.identity import KeepIdentity
    from enarx.keep.steward_client import Attester


class StewardRequired(EnarxError):
    code = "run.no_steward"


class Launch(NamedTuple):
    """One run of a module: what ``enarx run`` and ``enarx deploy`` ask :func:`launch` for."""

    wasm: bytes
    name: str
    config_path: Path | None
    mode: Mode = Mode.SECURE
    overrides: Sequence[str] = ()
    backend: str | None = None
    cache_dir: Path | None = None  # None: no module cache
    environ: Mapping[str, str] = MappingProxyType({})
    stdio: HostStdio = DEFAULT_STDIO
    slug: str | None = None
    signer: bytes | None = None
    # A package's files: its application digest covers all but Enarx.toml (DESIGN.md section
    # 2). None: a bare module, whose tree holds only main.wasm.
    package_files: Mapping[str, bytes] | None = None
    loaded: LoadedConfig | None = None  # already loaded (deploy); else from config_path
    # Injected by embedders and tests: the backends to choose from (default: every installed
    # one) and the Steward to attest to (default: from the configuration).
    backends: Sequence[Backend] | None = None
    attester: Attester | None = None


def launch(request: Launch, *, stderr: TextIO) -> RunOutcome:
    mode = request.mode
    if mode is not Mode.SECURE:
        require_debug(f"--{mode.value}")
    loaded = request.loaded or load_config(
        request.config_path, test=mode is Mode.TEST, overrides=request.overrides, cache_dir=request.cache_dir
    )
    config = loaded.config

    needs_identity = mode is not Mode.UNSAFE or config.steward is not None or any(f.prot == "tls" for f in config.files)
    if mode is Mode.SECURE:
        # What the configuration asks for is refused before anything else is looked at.
        reasons = insecure_reasons(config, backend=request.backend or "", steward_url=config.steward)
        if reasons:
            raise InsecureDeployment(reasons)
    test_steward: TestSteward | None = None
    identity: KeepIdentity | None = None
    try:
        backend: Backend | None = None
        backend_name = request.backend or "nil"
        if needs_identity:
            from enarx.keep.backends import all_backends, select_backend

            backends = list(request.backends) if request.backends is not None else all_backends(request.environ)
            if mode is Mode.SECURE:
                backends = [b for b in backends if not b.insecure]  # never fall back to "no TEE"
            backend = select_backend(request.backend, backends)
            backend_name = backend.name
        if mode is Mode.TEST and config.steward is None and request.attester is None:
            test_steward = require_debug("the embedded test Steward").start_test_steward(
                request.cache_dir or Path.home() / ".cache" / "enarx"
            )
            print(f"enarx: test Steward: in process; trust its root CA: {test_steward.root_ca_path}", file=stderr)
        steward_url = None if test_steward is not None else config.steward
        reasons = insecure_reasons(config, backend=backend_name, steward_url=steward_url)
        if mode is Mode.SECURE:
            if reasons:
                raise InsecureDeployment(reasons)
            if steward_url is None and request.attester is None:
                raise StewardRequired(
                    "a secure run needs a Steward to certify the Keep: set steward = \"https://...\" in "
                    "Enarx.toml, or run with --test"
                )
        if backend is not None and (test_steward is not None or steward_url is not None or request.attester):
            identity = _attest(request, loaded, backend, reasons, test_steward, steward_url, mode)
            if mode is not Mode.SECURE:
                print(f"enarx: Keep certified as: {', '.join(identity.names()) or '(no names)'}", file=stderr)
        cache = ModuleCache(request.cache_dir / "modules") if request.cache_dir else None
        return run_module(request.wasm, loaded, cache=cache, stdio=request.stdio, name=request.name, identity=identity)
    finally:
        if test_steward is not None:
            test_steward.close()


def _attest(
    request: Launch, loaded: LoadedConfig, backend: Backend, reasons: list[str],
    test_steward: TestSteward | None, steward_url: str | None, mode: Mode,
) -> KeepIdentity:
    from enarx.identity.claims import INSECURE_REASONS
    from enarx.keep.identity import establish_identity
    from enarx.keep.steward_client import http_attester

    config = loaded.config
    anchors = [loaded.base_dir / c for c in config.ca]
    attester: Attester
    if request.attester is not None:
        attester = request.attester
    elif test_steward is not None:
        attester = test_steward.attest
        anchors.append(test_steward.root_ca_path)
    else:
        assert steward_url is not None
        attester = http_attester(steward_url, ca_files=anchors, allow_http=mode is not Mode.SECURE)
    return establish_identity(
        backend=backend,
        wasm=request.wasm,
        config=config,
        reasons=reasons,
        attester=attester,
        extra_anchors=anchors,
        slug=request.slug,
        signer=request.signer,
        package_files=request.package_files,
        allow_insecure_peers=() if mode is Mode.SECURE else INSECURE_REASONS,
        secure=mode is Mode.SECURE,
    )
