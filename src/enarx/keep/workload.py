"""From a validated Enarx.toml to the workload's fd table, argv and environment."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass

from enarx.config.effective import EffectiveConfig, FileEntry
from enarx.config.load import LoadedConfig
from enarx.errors import EnarxError
from enarx.wasi import Dir, FdTable, HostStreamFile, TcpListener, TcpStream, Waiter, WasiFile
from enarx.wasi import NullFile as WasiNull
from enarx.wasi.sockets import bind_listener, connect_stream

ARGV0 = "main.wasm"  # Enarx always passes this literal argv[0]


class SetupError(EnarxError):
    """A resource named in the configuration could not be set up (socket, directory)."""

    code = "run.setup"


@dataclass(frozen=True)
class HostStdio:
    """Host fds standing in for stdin, stdout and stderr (tests and the Keep redirect them)."""

    stdin: int = 0
    stdout: int = 1
    stderr: int = 2


DEFAULT_STDIO = HostStdio()


def argv_of(config: EffectiveConfig) -> list[str]:
    return [ARGV0, *config.args]


def environ_of(config: EffectiveConfig) -> dict[str, str]:
    """The workload's whole environment: FD_COUNT, FD_NAMES, then ``[env]``; nothing of the host."""
    env = {"FD_COUNT": str(len(config.files)), "FD_NAMES": ":".join(config.fd_names)}
    env.update(config.env)
    return env


def build_fd_table(loaded: LoadedConfig, waiter: Waiter, stdio: HostStdio = DEFAULT_STDIO) -> FdTable:
    """Open every ``[[files]]`` entry as fd i, in order; on failure close what was opened."""
    table = FdTable()
    try:
        for fd, entry in enumerate(loaded.config.files):
            table.insert_at(fd, _open_entry(fd, entry, loaded, waiter, stdio))
    except BaseException:
        table.close_all()
        raise
    return table


def _open_entry(fd: int, entry: FileEntry, loaded: LoadedConfig, waiter: Waiter, stdio: HostStdio) -> WasiFile:
    kind = entry.kind
    if kind == "null":
        return WasiNull()
    if kind == "stdin":
        return HostStreamFile(stdio.stdin, readable=True, name=entry.name, waiter=waiter)
    if kind == "stdout":
        return HostStreamFile(stdio.stdout, readable=False, name=entry.name, waiter=waiter)
    if kind == "stderr":
        return HostStreamFile(stdio.stderr, readable=False, name=entry.name, waiter=waiter)
    if kind == "listen":
        _require_tcp(fd, entry.name, str(entry.prot))
        port = int(entry.port or 0)
        addr = str(entry.addr)
        try:
            sock = bind_listener(addr, port)
        except (OSError, socket.gaierror) as exc:
            raise SetupError(
                f"files[{fd}] ({entry.name!r}): cannot listen on {_hostport(addr, port)}: {exc.strerror or exc}"
            ) from None
        return TcpListener(sock, entry.name, waiter)
    if kind == "connect":
        _require_tcp(fd, entry.name, str(entry.prot))
        port = int(entry.port or 0)
        host = str(entry.host)
        try:
            sock = connect_stream(host, port)
        except (OSError, socket.gaierror) as exc:
            raise SetupError(
                f"files[{fd}] ({entry.name!r}): cannot connect to {_hostport(host, port)}: {exc.strerror or exc}"
            ) from None
        return TcpStream(sock, entry.name, waiter)
    if kind == "dir":
        root = (loaded.base_dir / str(entry.path)).resolve()
        if not root.is_dir():
            raise SetupError(f"files[{fd}] ({entry.name!r}): {root} is not a directory")
        if not os.access(root, os.R_OK | os.X_OK):
            raise SetupError(f"files[{fd}] ({entry.name!r}): {root} is not readable")
        return Dir(str(root), "", guest_name=entry.name, writable=entry.writable)
    raise SetupError(f"files[{fd}]: unsupported entry {entry!r}")


def _require_tcp(fd: int, name: str, prot: str) -> None:
    if prot != "tcp":
        raise SetupError(
            f"files[{fd}] ({name!r}): prot = \"tls\" needs the Keep's attested identity, which this runtime "
            "does not provide yet; use prot = \"tcp\""
        )


def _hostport(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
