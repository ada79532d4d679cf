"""TLS sockets: the Keep terminates TLS, the workload reads and writes plaintext.

The workload sees the same fds as with TCP; every byte that leaves the Keep is encrypted
with the Keep's attested certificate. The handshake runs on the first read or write (never
inside ``accept``, so one slow client cannot stall a listener), through the same waiter as
every other blocking call: a non-blocking guest fd gets ``AGAIN`` mid-handshake and simply
calls again when poll says the socket is ready.

What a peer must be (the application its certificate names) is checked right after the
handshake by ``verify_peer``, supplied by the Keep: this module knows nothing of identity.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable

from enarx.wasi.abi import SDFLAGS_WR
from enarx.wasi.errno import Errno, WasiError, from_os_error
from enarx.wasi.files import WasiFile
from enarx.wasi.sockets import ListenerFile, SocketFile
from enarx.wasi.waiting import Waiter

# Called with the peer's DER certificate after the handshake (whose chain the TLS context
# already verified); raises PeerRefused to refuse it.
PeerCheck = Callable[[bytes | None], None]


class PeerRefused(Exception):
    """The peer completed the TLS handshake but is not who the configuration requires."""


class TlsStream(SocketFile):
    """A TLS connection whose plaintext the guest reads and writes."""

    def __init__(
        self,
        sock: socket.socket,
        name: str,
        waiter: Waiter,
        context: ssl.SSLContext,
        *,
        server_side: bool,
        server_hostname: str | None = None,
        verify_peer: PeerCheck | None = None,
    ) -> None:
        sock.setblocking(False)
        wrapped = context.wrap_socket(
            sock, server_side=server_side, server_hostname=server_hostname, do_handshake_on_connect=False
        )
        super().__init__(wrapped, name, waiter)
        self.ssl_sock: ssl.SSLSocket = wrapped
        self.verify_peer = verify_peer
        self.established = False
        self._peeked = b""

    # -- the handshake ---------------------------------------------------------------------
    def handshake(self) -> None:
        while not self.established:
            try:
                self.ssl_sock.do_handshake()
            except ssl.SSLWantReadError:
                self.wait(write=False)
                continue
            except ssl.SSLWantWriteError:
                self.wait(write=True)
                continue
            except ssl.SSLCertVerificationError as exc:
                reason = f"certificate verify failed: {exc.verify_message}"
                raise WasiError(Errno.CONNABORTED, f"TLS handshake with {self.name} failed: {reason}") from None
            except ssl.SSLError as exc:
                raise WasiError(Errno.CONNABORTED, f"TLS handshake with {self.name} failed: {exc.reason or exc}") from None
            except OSError as exc:
                raise from_os_error(exc) from exc
            if self.verify_peer is not None:
                try:
                    self.verify_peer(self.ssl_sock.getpeercert(binary_form=True))
                except PeerRefused as exc:
                    self._abort()
                    raise WasiError(Errno.CONNREFUSED, f"peer of {self.name} refused: {exc}") from None
            self.established = True

    def _abort(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    # -- data ------------------------------------------------------------------------------
    def recv(self, size: int, peek: bool) -> bytes:
        self.handshake()
        if self._peeked:
            data = self._peeked[:size]
            if not peek:
                self._peeked = self._peeked[len(data):]
            return data
        while True:
            try:
                data = self.ssl_sock.recv(size)
            except ssl.SSLWantReadError:
                self.wait(write=False)
                continue
            except ssl.SSLWantWriteError:
                self.wait(write=True)
                continue
            except ssl.SSLZeroReturnError:
                return b""
            except ssl.SSLEOFError:
                return b""  # the peer closed without close_notify: an end of stream, as TCP
            except ssl.SSLError as exc:
                raise WasiError(Errno.CONNRESET, f"TLS error on {self.name}: {exc.reason or exc}") from None
            except OSError as exc:
                raise from_os_error(exc) from exc
            if peek:
                self._peeked = data
                return data
            return self._drain(data, size)

    def _drain(self, first: bytes, size: int) -> bytes:
        """Add whatever else is readable now, without waiting.

        One TLS record holds at most 16 KiB; a guest asking for 64 KiB would otherwise pay
        a host call per record. Stops at the first would-block: never waits for more.
        """
        if not first or len(first) >= size:
            return first
        parts = [first]
        got = len(first)
        while got < size:
            try:
                more = self.ssl_sock.recv(size - got)
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError, ssl.SSLZeroReturnError, ssl.SSLEOFError):
                break
            except (ssl.SSLError, OSError):
                break  # reported on the next call, after the bytes already read are delivered
            if not more:
                break
            parts.append(more)
            got += len(more)
        return b"".join(parts)

    def send(self, data: memoryview) -> int:
        self.handshake()
        while True:
            try:
                return self.ssl_sock.send(data)
            except ssl.SSLWantWriteError:
                self.wait(write=True)
            except ssl.SSLWantReadError:
                self.wait(write=False)
            except ssl.SSLError as exc:
                raise WasiError(Errno.PIPE, f"TLS error on {self.name}: {exc.reason or exc}") from None
            except OSError as exc:
                raise from_os_error(exc) from exc

    def buffered(self) -> int:
        # Decrypted bytes already inside the TLS object: the socket may never poll readable.
        return len(self._peeked) + (self.ssl_sock.pending() if self.established else 0)

    def close_notify(self) -> None:
        """Send TLS close_notify, so a peer can tell the end of the stream from a truncation."""
        if not self.established:
            return
        try:
            self.ssl_sock.unwrap()
        except (ssl.SSLError, OSError, ValueError):
            pass  # the notify went out with the first call; the peer's answer is not awaited

    def shutdown(self, how: int) -> None:
        if how & SDFLAGS_WR:
            self.close_notify()
            self.established = False
        super().shutdown(how)

    def close(self) -> None:
        self.close_notify()
        super().close()


class TlsListener(ListenerFile):
    """A listener whose every accepted connection is a :class:`TlsStream` (server side)."""

    def __init__(
        self, sock: socket.socket, name: str, waiter: Waiter, context: ssl.SSLContext,
        verify_peer: PeerCheck | None = None,
    ) -> None:
        super().__init__(sock, name, waiter)
        self.context = context
        self.verify_peer = verify_peer

    def wrap(self, conn: socket.socket, name: str) -> WasiFile:
        return TlsStream(conn, name, self.waiter, self.context, server_side=True, verify_peer=self.verify_peer)
