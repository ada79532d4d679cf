"""From a validated Enarx.toml to the workload's fd table, argv and environment."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from enarx.config.effective import EffectiveConfig, FileEntry
from enarx.config.load import LoadedConfig
from enarx.errors import EnarxError
from enarx.keep.plugins import require_debug
from enarx.wasi.files import NullFile, WasiFile
from enarx.wasi.table import FdTable
from enarx.wasi.waiting import Waiter

if TYPE_CHECKING:
    import socket

    from enarx.keep.identity import KeepIdentity

ARGV0 = "main.wasm"  # Enarx always passes this literal argv[0]


class SetupError(EnarxError):
    """A resource named in the configuration could not be set up (socket, directory)."""

    code = "run.setup"


def where(fd: int, entry: FileEntry) -> str:
    """How errors name an entry: ``files[3] ('ingest')``."""
    return f"files[{fd}] ({entry.name!r})"


def hostport(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def open_listener(fd: int, entry: FileEntry) -> socket.socket:
    """The bound socket of a ``listen`` entry, or one line saying why not."""
    from enarx.wasi.sockets import bind_listener  # the socket layer loads only for socket entries

    addr, port = str(entry.addr), int(entry.port or 0)
    try:
        return bind_listener(addr, port)
    except OSError as exc:  # socket.gaierror included
        raise SetupError(f"{where(fd, entry)}: cannot listen on {hostport(addr, port)}: {exc.strerror or exc}") from None


def open_connection(fd: int, entry: FileEntry) -> socket.socket:
    """The connected socket of a ``connect`` entry, or one line saying why not."""
    from enarx.wasi.sockets import connect_stream

    host, port = str(entry.host), int(entry.port or 0)
    try:
        return connect_stream(host, port)
    except OSError as exc:  # socket.gaierror included
        raise SetupError(f"{where(fd, entry)}: cannot connect to {hostport(host, port)}: {exc.strerror or exc}") from None


class HostStdio(NamedTuple):
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


def build_fd_table(
    loaded: LoadedConfig, waiter: Waiter, stdio: HostStdio = DEFAULT_STDIO, identity: KeepIdentity | None = None
) -> FdTable:
    """Open every ``[[files]]`` entry as fd i, in order; on failure close what was opened."""
    table = FdTable()
    try:
        for fd, entry in enumerate(loaded.config.files):
            table.insert_at(fd, _open_entry(fd, entry, loaded, waiter, stdio, identity))
    except BaseException:
        table.close_all()
        raise
    return table


def _open_entry(
    fd: int, entry: FileEntry, loaded: LoadedConfig, waiter: Waiter, stdio: HostStdio, identity: KeepIdentity | None
) -> WasiFile:
    if entry.kind == "null":
        return NullFile()
    if entry.kind in ("listen", "connect") and entry.prot == "tls":
        if identity is None:
            raise SetupError(
                f"files[{fd}] ({entry.name!r}): prot = \"tls\" needs the Keep's certificate: name a steward "
                "in Enarx.toml, or run with --test"
            )
        from enarx.keep.tls import open_tls  # TLS and X.509 load only for TLS entries

        return open_tls(fd, entry, identity, waiter, base_dir=loaded.base_dir)
    # Everything else reaches the host in plaintext: only the debug build can open it.
    plugin = require_debug(f"files[{fd}] ({entry.name!r}): kind = {entry.kind!r}" + (f", prot = {entry.prot!r}" if entry.prot else ""))
    opened = plugin.open_file(fd, entry, base_dir=loaded.base_dir, waiter=waiter, stdio=(stdio.stdin, stdio.stdout, stdio.stderr))
    if opened is None:
        raise SetupError(f"files[{fd}]: kind {entry.kind!r} is not supported")
    return opened
