"""Socket plumbing shared by every socket fd: waiting, shutdown, listening, connecting.

Host sockets are always non-blocking at the OS level; a guest's blocking call waits in the
:class:`~enarx.wasi.waiting.Waiter` so the runtime can still stop it. What the guest reads
and writes is decided by the subclasses: TLS streams (:mod:`enarx.wasi.tls`) in every
build, plaintext TCP only in the debug build (``enarx-debug``). A peer that resets or
vanishes is an errno for the guest, never an error of the host.
"""

from __future__ import annotations

import socket

from enarx.wasi.abi import SDFLAGS_RD, SDFLAGS_WR, Filetype, Rights
from enarx.wasi.errno import Errno, WasiError, from_os_error
from enarx.wasi.files import Filestat, WasiFile
from enarx.wasi.waiting import Waiter

LISTEN_RIGHTS = (
    Rights.FD_FILESTAT_GET | Rights.FD_FDSTAT_SET_FLAGS | Rights.POLL_FD_READWRITE | Rights.FD_READ
    | Rights.SOCK_ACCEPT
)
STREAM_RIGHTS = (
    Rights.FD_FILESTAT_GET | Rights.FD_FDSTAT_SET_FLAGS | Rights.POLL_FD_READWRITE | Rights.FD_READ
    | Rights.FD_WRITE | Rights.SOCK_SHUTDOWN
)

# Pending connections the kernel queues for a listener before the guest accepts them.
LISTEN_BACKLOG = 128
# How long a `connect` entry may take to connect at start-up.
CONNECT_TIMEOUT = 10.0


class SocketFile(WasiFile):
    """A connected stream socket; subclasses define what ``recv`` and ``send`` carry."""

    filetype = Filetype.SOCKET_STREAM
    rights = STREAM_RIGHTS

    def __init__(self, sock: socket.socket, name: str, waiter: Waiter) -> None:
        super().__init__()
        sock.setblocking(False)
        self.sock = sock
        self.name = name
        self.waiter = waiter

    def describe(self) -> str:
        return f"socket {self.name!r}"

    def wait(self, *, write: bool) -> None:
        """Block until the socket is ready, or raise ``AGAIN`` when the guest asked not to."""
        if self.nonblocking:
            raise WasiError(Errno.AGAIN, "would block")
        fd = self.sock.fileno()
        self.waiter.wait([] if write else [fd], [fd] if write else [], None)

    def read(self, size: int) -> bytes:
        return self.recv(size, False)

    def write(self, data: memoryview) -> int:
        return self.send(data)

    def shutdown(self, how: int) -> None:
        mode = {SDFLAGS_RD: socket.SHUT_RD, SDFLAGS_WR: socket.SHUT_WR, SDFLAGS_RD | SDFLAGS_WR: socket.SHUT_RDWR}.get(how)
        if mode is None:
            raise WasiError(Errno.INVAL, f"shutdown flags {how} are not RD, WR or both")
        try:
            self.sock.shutdown(mode)
        except OSError as exc:
            raise from_os_error(exc) from exc

    def poll_fd(self) -> int | None:
        return self.sock.fileno()

    def filestat(self) -> Filestat:
        return Filestat(filetype=self.filetype)

    def close(self) -> None:
        self.sock.close()


class ListenerFile(WasiFile):
    """A bound, listening socket; ``wrap`` turns each accepted connection into its fd object."""

    filetype = Filetype.SOCKET_STREAM
    rights = LISTEN_RIGHTS

    def __init__(self, sock: socket.socket, name: str, waiter: Waiter) -> None:
        super().__init__()
        sock.setblocking(False)
        self.sock = sock
        self.name = name
        self.waiter = waiter
        self.accepted = 0

    def describe(self) -> str:
        return f"listener {self.name!r}"

    def accept(self) -> WasiFile:
        while True:
            try:
                conn, _addr = self.sock.accept()
            except BlockingIOError:
                if self.nonblocking:
                    raise WasiError(Errno.AGAIN, "no pending connection") from None
                self.waiter.wait([self.sock.fileno()], [], None)
                continue
            except OSError as exc:
                raise from_os_error(exc) from exc
            self.accepted += 1
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return self.wrap(conn, f"{self.name}#{self.accepted}")

    def wrap(self, conn: socket.socket, name: str) -> WasiFile:
        raise NotImplementedError

    def poll_fd(self) -> int | None:
        return self.sock.fileno()

    def filestat(self) -> Filestat:
        return Filestat(filetype=self.filetype)

    def close(self) -> None:
        self.sock.close()


def bind_listener(addr: str, port: int) -> socket.socket:
    """Bind and listen as Enarx does: ``"::"`` means both stacks."""
    infos = socket.getaddrinfo(addr, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, kind, proto, _canon, sockaddr = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.bind(sockaddr)
        sock.listen(LISTEN_BACKLOG)
    except BaseException:
        sock.close()
        raise
    return sock


def connect_stream(host: str, port: int, timeout: float = CONNECT_TIMEOUT) -> socket.socket:
    """Connect at start-up, as Enarx does (``localhost`` means 127.0.0.1)."""
    target = "127.0.0.1" if host == "localhost" else host
    sock = socket.create_connection((target, port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock
