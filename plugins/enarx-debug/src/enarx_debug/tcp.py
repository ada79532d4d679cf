"""Plaintext TCP sockets for the workload (``prot = "tcp"``): insecure, debug build only.

The host can read and change every byte of a plaintext connection, which is why the
release build has only TLS sockets, terminated inside the Keep.
"""

from __future__ import annotations

import socket

from enarx.wasi.errno import from_os_error
from enarx.wasi.files import WasiFile
from enarx.wasi.sockets import ListenerFile, SocketFile


class TcpStream(SocketFile):
    """A plaintext TCP stream: an accepted connection or a ``connect`` entry."""

    def recv(self, size: int, peek: bool) -> bytes:
        flags = socket.MSG_PEEK if peek else 0
        while True:
            try:
                return self.sock.recv(size, flags)
            except BlockingIOError:
                self.wait(write=False)
            except OSError as exc:
                raise from_os_error(exc) from exc

    def send(self, data: memoryview) -> int:
        while True:
            try:
                return self.sock.send(data, socket.MSG_NOSIGNAL)
            except BlockingIOError:
                self.wait(write=True)
            except OSError as exc:
                raise from_os_error(exc) from exc


class TcpListener(ListenerFile):
    """A plaintext TCP listener: each accepted connection is a :class:`TcpStream`."""

    def wrap(self, conn: socket.socket, name: str) -> WasiFile:
        return TcpStream(conn, name, self.waiter)
