"""TLS ``listen`` and ``connect`` entries, opened with the Keep's identity."""

from __future__ import annotations

from pathlib import Path

from enarx.config.effective import FileEntry
from enarx.keep.identity import KeepIdentity
from enarx.keep.workload import SetupError, hostport, open_connection, open_listener, where
from enarx.wasi.errno import WasiError
from enarx.wasi.files import WasiFile
from enarx.wasi.tls import TlsListener, TlsStream
from enarx.wasi.waiting import Waiter


def open_tls(fd: int, entry: FileEntry, identity: KeepIdentity, waiter: Waiter, *, base_dir: Path) -> WasiFile:
    if entry.kind == "listen":
        context = identity.server_context(entry.client_auth)
        check = identity.peer_check(entry.peers, role="client") if entry.peers else None
        return TlsListener(open_listener(fd, entry), entry.name, waiter, context, verify_peer=check)
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
            raise SetupError(f"{where(fd, entry)}: cannot load trust anchors from {path}: {exc}") from None
    stream = TlsStream(open_connection(fd, entry), entry.name, waiter, context, server_side=False,
                       server_hostname=server_hostname, verify_peer=check)
    try:
        stream.handshake()  # at start-up, as Enarx connects: a wrong peer stops the run here
    except WasiError as exc:
        stream.close()
        target = hostport(host, int(entry.port or 0))
        raise SetupError(f"{where(fd, entry)}: TLS to {target} failed: {exc.reason}") from None
    return stream
