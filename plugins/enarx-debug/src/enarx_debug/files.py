"""Opens the ``[[files]]`` kinds that only the debug build has: host stdio, directories, raw TCP."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from enarx.config.effective import FileEntry
from enarx.errors import EnarxError
from enarx.wasi.files import WasiFile
from enarx.wasi.sockets import bind_listener, connect_stream
from enarx.wasi.waiting import Waiter


class SetupError(EnarxError):
    code = "run.setup"


def _hostport(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


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
            raise SetupError(f"files[{fd}] ({entry.name!r}): {root} is not a directory")
        if not os.access(root, os.R_OK | os.X_OK):
            raise SetupError(f"files[{fd}] ({entry.name!r}): {root} is not readable")
        return Dir(str(root), "", guest_name=entry.name, writable=entry.writable)
    if kind == "listen" and entry.prot == "tcp":
        from enarx_debug.tcp import TcpListener

        addr, port = str(entry.addr), int(entry.port or 0)
        try:
            return TcpListener(bind_listener(addr, port), entry.name, waiter)
        except (OSError, socket.gaierror) as exc:
            raise SetupError(
                f"files[{fd}] ({entry.name!r}): cannot listen on {_hostport(addr, port)}: {exc.strerror or exc}"
            ) from None
    if kind == "connect" and entry.prot == "tcp":
        from enarx_debug.tcp import TcpStream

        host, port = str(entry.host), int(entry.port or 0)
        try:
            return TcpStream(connect_stream(host, port), entry.name, waiter)
        except (OSError, socket.gaierror) as exc:
            raise SetupError(
                f"files[{fd}] ({entry.name!r}): cannot connect to {_hostport(host, port)}: {exc.strerror or exc}"
            ) from None
    return None
