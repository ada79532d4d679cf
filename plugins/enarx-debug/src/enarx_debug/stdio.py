"""Host stdio passed through to the workload: insecure, so only in the debug build."""

from __future__ import annotations

import os

from enarx.wasi.abi import Filetype, Rights
from enarx.wasi.errno import Errno, WasiError, from_os_error
from enarx.wasi.files import Filestat, WasiFile, filetype_of_mode
from enarx.wasi.waiting import Waiter


class HostStreamFile(WasiFile):
    """A host fd used as a byte stream: stdin, stdout or stderr passed through.

    Reads wait through the :class:`Waiter` so a blocked ``read(stdin)`` can still be
    stopped by the runtime. Writes go straight to the host fd.
    """

    filetype = Filetype.CHARACTER_DEVICE

    def __init__(self, host_fd: int, *, readable: bool, name: str, waiter: Waiter | None = None) -> None:
        super().__init__()
        self.host_fd = host_fd
        self.name = name
        base = Rights.POLL_FD_READWRITE | Rights.FD_FILESTAT_GET | Rights.FD_FDSTAT_SET_FLAGS
        self.rights = base | (Rights.FD_READ if readable else Rights.FD_WRITE)
        # Plain bools: IntFlag arithmetic costs microseconds, and write() is the hot path.
        self._readable = readable
        try:
            self.filetype = filetype_of_mode(os.fstat(host_fd).st_mode)
        except OSError:
            self.filetype = Filetype.CHARACTER_DEVICE
        if self.filetype == Filetype.REGULAR_FILE:
            # A redirected file stays a byte stream for the guest: no seeking on stdio.
            self.filetype = Filetype.CHARACTER_DEVICE
        self._waiter = waiter

    def read(self, size: int) -> bytes:
        if not self._readable:
            return super().read(size)
        if self._waiter is not None and not self.nonblocking:
            try:
                self._waiter.wait([self.host_fd], [], None)
            except OSError:
                pass  # not pollable (a regular file): just read
        try:
            return os.read(self.host_fd, size)
        except BlockingIOError:
            raise WasiError(Errno.AGAIN, "no input yet") from None
        except OSError as exc:
            raise from_os_error(exc) from exc

    def write(self, data: memoryview) -> int:
        if self._readable:
            return super().write(data)
        try:
            return os.write(self.host_fd, data)
        except OSError as exc:
            raise from_os_error(exc) from exc

    def poll_fd(self) -> int | None:
        return self.host_fd

    def filestat(self) -> Filestat:
        return Filestat(filetype=self.filetype)

    def describe(self) -> str:
        return self.name
