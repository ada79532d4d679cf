"""Finding the debug build's plugin through entry points.

The release install of ``enarx`` has no code for host stdio, host directories, plaintext
TCP, the nil backend or the embedded test Steward; the ``enarx-debug`` distribution adds
them by declaring an ``enarx.plugins`` entry point named ``debug``.

Entry points are read straight from the ``entry_points.txt`` of installed distributions
rather than through :mod:`importlib.metadata`: that module costs tens of milliseconds to
import, a large part of a warm ``enarx run`` (benchmarks/startup.py). The format is the
packaging specification's (an INI file of ``name = module:attr`` lines per group).
"""

from __future__ import annotations

import importlib
import os
import sys
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from enarx.errors import EnarxError

if TYPE_CHECKING:
    from cryptography import x509

    from enarx.config.effective import FileEntry
    from enarx.wasi.files import WasiFile
    from enarx.wasi.waiting import Waiter

DEBUG_DISTRIBUTION = "enarx-debug"
PLUGIN_GROUP = "enarx.plugins"


class DebugBuildRequired(EnarxError):
    """A feature that only the debug build has was asked of a release install."""

    code = "build.release"

    def __init__(self, feature: str) -> None:
        super().__init__(
            f"{feature} is not in the release build of enarx; install the debug build: "
            f"pip install {DEBUG_DISTRIBUTION}"
        )


class DebugPlugin(Protocol):
    name: str
    version: str

    def open_file(
        self, fd: int, entry: FileEntry, *, base_dir: Path, waiter: Waiter, stdio: tuple[int, int, int]
    ) -> WasiFile | None: ...

    def start_test_steward(self, cache_dir: Path) -> TestSteward: ...


class TestSteward(Protocol):
    """The debug build's in-process test Steward (``enarx run --test`` without a steward)."""

    @property
    def root_ca_path(self) -> Path: ...

    def attest(self, csr: bytes) -> list[x509.Certificate]: ...

    def close(self) -> None: ...


class Distribution(NamedTuple):
    name: str


class PluginEntry(NamedTuple):
    """One entry point, with the attributes of ``importlib.metadata.EntryPoint`` we use."""

    name: str
    value: str
    dist: Distribution | None

    def load(self) -> Any:
        return load(self.value)


def plugin_entries(group: str) -> list[PluginEntry]:
    """Every installed distribution's entry points in ``group`` (first on ``sys.path`` wins)."""
    found: dict[str, PluginEntry] = {}
    for entry in sys.path:
        for dist_info in _dist_infos(entry or "."):
            try:
                with open(os.path.join(dist_info, "entry_points.txt"), encoding="utf-8", errors="replace") as f:
                    text = f.read()
            except OSError:  # no entry points (most distributions), or unreadable
                continue
            dist = Distribution(os.path.basename(dist_info).removesuffix(".dist-info").rsplit("-", 1)[0])
            section = None
            for raw in text.splitlines():
                line = raw.strip()
                if line.startswith("[") and line.endswith("]"):
                    section = line[1:-1].strip()
                elif section == group and "=" in line and not line.startswith(("#", ";")):
                    name, _, value = line.partition("=")
                    found.setdefault(name.strip(), PluginEntry(name.strip(), value.strip(), dist))
    return list(found.values())


def _dist_infos(directory: str) -> list[str]:
    """The ``*.dist-info`` directories in one ``sys.path`` entry, in name order.

    ``os.scandir`` rather than ``Path.glob``: the glob machinery is a few milliseconds of a
    run's start-up, spent on a directory of a few hundred entries."""
    try:
        with os.scandir(directory) as it:
            return sorted(e.path for e in it if e.name.endswith(".dist-info"))
    except OSError:  # not a directory (a zip file), or gone
        return []


def entry_points(group: str) -> dict[str, str]:
    """``name -> "module:attr"`` for the entry points in ``group``."""
    return {e.name: e.value for e in plugin_entries(group)}


def load(reference: str) -> object:
    module_name, _, attr = reference.partition(":")
    target: object = importlib.import_module(module_name.strip())
    for part in attr.strip().split(".") if attr.strip() else ():
        target = getattr(target, part)
    return target


@cache
def debug_plugin() -> DebugPlugin | None:
    """The installed debug build's plugin, or ``None`` on a release install."""
    reference = entry_points(PLUGIN_GROUP).get("debug")
    if reference is None:
        return None
    plugin = load(reference)
    return plugin  # type: ignore[return-value]


def require_debug(feature: str) -> DebugPlugin:
    plugin = debug_plugin()
    if plugin is None:
        raise DebugBuildRequired(feature)
    return plugin


def build_name() -> str:
    """``release`` or ``debug (enarx-debug X)``: what ``enarx --version`` says."""
    plugin = debug_plugin()
    return "release build" if plugin is None else f"debug build: {plugin.name} {plugin.version}"
