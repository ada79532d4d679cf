"""TLS ``listen`` and ``connect`` entries, opened with the Keep's identity."""

from __future__ import annotations

import socket
from pathlib import Path

from enarx.config.effective import FileEntry
from enarx.errors import EnarxError
from enarx.keep.identity import KeepIdentity
from enarx.wasi.errno import WasiError
from enarx.wasi.files import WasiFile
from enarx.wasi.sockets import bind_listener, connect_stream
from enarx.wasi.tls import TlsListener, TlsStream
from enarx.wasi.waiting import Waiter


class TlsSetupError(EnarxError):
    code = "run.setup"


def _hostport(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def open_tls(fd: int, entry: FileEntry, identity: KeepIdentity, waiter: Waiter, *, base_dir: Path) -> WasiFile:
    where = f"files[{fd}] ({entry.name!r})"
    port = int(entry.port or 0)
    if entry.kind == "listen":
        addr = str(entry.addr)
        context = identity.server_context(entry.client_auth)
        check = identity.peer_check(entry.peers, role="client") if entry.peers else None
        try:
            sock = bind_listener(addr, port)
        except (OSError, socket.gaierror) as exc:
            raise TlsSetupError(f"{where}: cannot listen on {_hostport(addr, port)}: {exc.strerror or exc}") from None
        return TlsListener(sock, entry.name, waiter, context, verify_peer=check)
    host = str(entry.host)
    context = identity.client_context()
    if entry.peer:
        server_hostname = identity.server_hostname(entry.peer)
        check = identity.peer_check([entry.peer], role="server")
    else:
        server_hostname, check = host, None
    for name in entry.ca:
        path = base_dir / name
        try:
            context.load_verify_locations(cafile=str(path))
        except (OSError, ValueError) as exc:
            raise TlsSetupError(f"{where}: cannot load trust anchors from {path}: {exc}") from None
    try:
        sock = connect_stream(host, port)
    except (OSError, socket.gaierror) as exc:
        raise TlsSetupError(f"{where}: cannot connect to {_hostport(host, port)}: {exc.strerror or exc}") from None
    stream = TlsStream(sock, entry.name, waiter, context, server_side=False,
                       server_hostname=server_hostname, verify_peer=check)
    try:
        stream.handshake()  # at start-up, as Enarx connects: a wrong peer stops the run here
    except WasiError as exc:
        stream.close()
        raise TlsSetupError(f"{where}: TLS to {_hostport(host, port)} failed: {exc.reason}") from None
    return stream
