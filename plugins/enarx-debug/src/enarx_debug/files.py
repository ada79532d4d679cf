"""Opens the ``[[files]]`` kinds that only the debug build has: host stdio, directories, raw TCP."""

from __future__ import annotations

import os
from pathlib import Path

from enarx.config.effective import FileEntry
from enarx.keep.workload import SetupError, open_connection, open_listener, where
from enarx.wasi.files import WasiFile
from enarx.wasi.waiting import Waiter


def open_file(
    fd: int, entry: FileEntry, *, base_dir: Path, waiter: Waiter, stdio: tuple[int, int, int]
) -> WasiFile | None:
    """The fd object for ``entry``, or ``None`` when the entry is not one of ours."""
    kind = entry.kind
    # Each kind's module loads only when a configuration uses it (start-up time).
    if kind in ("stdin", "stdout", "stderr"):
        from enarx_debug.stdio import HostStreamFile

        host_fd = stdio[("stdin", "stdout", "stderr").index(kind)]
        return HostStreamFile(host_fd, readable=kind == "stdin", name=entry.name, waiter=waiter)
    if kind == "dir":
        from enarx_debug.dirs import Dir

        root = (base_dir / str(entry.path)).resolve()
        if not root.is_dir():
            raise SetupError(f"{where(fd, entry)}: {root} is not a directory")
        if not os.access(root, os.R_OK | os.X_OK):
            raise SetupError(f"{where(fd, entry)}: {root} is not readable")
        return Dir(str(root), "", guest_name=entry.name, writable=entry.writable)
    if kind == "listen" and entry.prot == "tcp":
        from enarx_debug.tcp import TcpListener

        return TcpListener(open_listener(fd, entry), entry.name, waiter)
    if kind == "connect" and entry.prot == "tcp":
        from enarx_debug.tcp import TcpStream

        return TcpStream(open_connection(fd, entry), entry.name, waiter)
    return None
