"""What an fd can be: the default-deny base, null, host stdio and regular files.

The base class answers every operation with the errno a WASI host gives for an fd that
cannot do it (``BADF`` for reads and writes it lacks the right for, ``NOTDIR`` for path
operations, ``BADF`` for socket calls, ``SPIPE`` for seeks), so each subclass grants exactly
the capabilities it overrides. Objects here know nothing of the engine or guest memory.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass

from enarx.wasi.abi import ALL_RIGHTS, Fdflags, Filetype, Rights, Whence
from enarx.wasi.errno import Errno, WasiError, from_os_error
from enarx.wasi.waiting import Waiter


@dataclass(frozen=True)
class Filestat:
    dev: int = 0
    ino: int = 0
    filetype: Filetype = Filetype.UNKNOWN
    nlink: int = 1
    size: int = 0
    atim: int = 0
    mtim: int = 0
    ctim: int = 0

    @classmethod
    def from_os(cls, st: os.stat_result) -> Filestat:
        return cls(
            dev=st.st_dev,
            ino=st.st_ino,
            filetype=filetype_of_mode(st.st_mode),
            nlink=st.st_nlink,
            size=st.st_size,
            atim=st.st_atime_ns,
            mtim=st.st_mtime_ns,
            ctim=st.st_ctime_ns,
        )


def filetype_of_mode(mode: int) -> Filetype:
    if stat.S_ISREG(mode):
        return Filetype.REGULAR_FILE
    if stat.S_ISDIR(mode):
        return Filetype.DIRECTORY
    if stat.S_ISCHR(mode):
        return Filetype.CHARACTER_DEVICE
    if stat.S_ISBLK(mode):
        return Filetype.BLOCK_DEVICE
    if stat.S_ISLNK(mode):
        return Filetype.SYMBOLIC_LINK
    if stat.S_ISSOCK(mode):
        return Filetype.SOCKET_STREAM
    return Filetype.UNKNOWN


@dataclass(frozen=True)
class Dirent:
    next_cookie: int
    ino: int
    name: bytes
    filetype: Filetype


class WasiFile:
    """An open fd. Every capability is denied until a subclass grants it."""

    filetype: Filetype = Filetype.UNKNOWN
    rights: Rights = Rights(0)
    inheriting: Rights = Rights(0)

    def __init__(self) -> None:
        self.fdflags = Fdflags(0)

    # -- byte streams -------------------------------------------------------------------
    def read(self, size: int) -> bytes:
        raise WasiError(Errno.BADF, f"{self.describe()} is not readable")

    def write(self, data: memoryview) -> int:
        raise WasiError(Errno.BADF, f"{self.describe()} is not writable")

    def pread(self, size: int, offset: int) -> bytes:
        raise WasiError(Errno.SPIPE, f"{self.describe()} has no offsets")

    def pwrite(self, data: memoryview, offset: int) -> int:
        raise WasiError(Errno.SPIPE, f"{self.describe()} has no offsets")

    def seek(self, offset: int, whence: Whence) -> int:
        raise WasiError(Errno.SPIPE, f"{self.describe()} is not seekable")

    def sync(self) -> None:
        """Nothing to flush by default: writes go straight to the host."""

    def filestat(self) -> Filestat:
        return Filestat(filetype=self.filetype)

    def set_size(self, size: int) -> None:
        raise WasiError(Errno.BADF, f"{self.describe()} cannot be resized")

    def set_times(self, atim: int | None, mtim: int | None) -> None:
        raise WasiError(Errno.BADF, f"{self.describe()} has no times to set")

    def set_fdflags(self, flags: Fdflags) -> None:
        if flags & ~(Fdflags.NONBLOCK | Fdflags.APPEND):
            raise WasiError(Errno.NOTSUP, f"fd flags {int(flags):#x} are not supported")
        self.fdflags = flags

    def readdir(self, cookie: int) -> Iterator[Dirent]:
        raise WasiError(Errno.NOTDIR, f"{self.describe()} is not a directory")

    # -- sockets ------------------------------------------------------------------------
    def accept(self) -> WasiFile:
        raise WasiError(Errno.BADF, f"{self.describe()} is not a listening socket")

    def recv(self, size: int, peek: bool) -> bytes:
        raise WasiError(Errno.BADF, f"{self.describe()} is not a socket")

    def send(self, data: memoryview) -> int:
        raise WasiError(Errno.BADF, f"{self.describe()} is not a socket")

    def shutdown(self, how: int) -> None:
        raise WasiError(Errno.BADF, f"{self.describe()} is not a socket")

    # -- readiness, for poll_oneoff and blocking calls ----------------------------------
    def poll_fd(self) -> int | None:
        """The host fd whose readiness is this file's, or ``None`` when always ready."""
        return None

    def buffered(self) -> int:
        """Bytes readable now without touching the host (a TLS record already decrypted)."""
        return 0

    def close(self) -> None:
        """Release host resources; called once, when the guest closes the fd or exits."""

    def describe(self) -> str:
        return type(self).__name__.lower()

    @property
    def nonblocking(self) -> bool:
        return bool(self.fdflags & Fdflags.NONBLOCK)


class NullFile(WasiFile):
    """``kind = "null"``: reads see end-of-file, writes vanish (like /dev/null)."""

    filetype = Filetype.CHARACTER_DEVICE
    rights = Rights.FD_READ | Rights.FD_WRITE | Rights.POLL_FD_READWRITE | Rights.FD_FILESTAT_GET | Rights.FD_FDSTAT_SET_FLAGS

    def read(self, size: int) -> bytes:
        return b""

    def write(self, data: memoryview) -> int:
        return len(data)

    def describe(self) -> str:
        return "null"


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


class RegularFile(WasiFile):
    """A host file opened under a directory pre-open."""

    filetype = Filetype.REGULAR_FILE

    def __init__(self, host_fd: int, rights: Rights, name: str) -> None:
        super().__init__()
        self.host_fd = host_fd
        self.rights = rights
        self.name = name

    def _need(self, right: Rights) -> None:
        if not self.rights & right:
            raise WasiError(Errno.NOTCAPABLE, f"{self.name} was not opened with {right.name}")

    def read(self, size: int) -> bytes:
        self._need(Rights.FD_READ)
        try:
            return os.read(self.host_fd, size)
        except OSError as exc:
            raise from_os_error(exc) from exc

    def write(self, data: memoryview) -> int:
        self._need(Rights.FD_WRITE)
        try:
            if self.fdflags & Fdflags.APPEND:
                os.lseek(self.host_fd, 0, os.SEEK_END)
            return os.write(self.host_fd, data)
        except OSError as exc:
            raise from_os_error(exc) from exc

    def pread(self, size: int, offset: int) -> bytes:
        self._need(Rights.FD_READ)
        try:
            return os.pread(self.host_fd, size, offset)
        except OSError as exc:
            raise from_os_error(exc) from exc

    def pwrite(self, data: memoryview, offset: int) -> int:
        self._need(Rights.FD_WRITE)
        try:
            return os.pwrite(self.host_fd, data, offset)
        except OSError as exc:
            raise from_os_error(exc) from exc

    def seek(self, offset: int, whence: Whence) -> int:
        host_whence = {Whence.SET: os.SEEK_SET, Whence.CUR: os.SEEK_CUR, Whence.END: os.SEEK_END}[whence]
        try:
            return os.lseek(self.host_fd, offset, host_whence)
        except OSError as exc:
            raise from_os_error(exc) from exc

    def sync(self) -> None:
        try:
            os.fsync(self.host_fd)
        except OSError as exc:
            raise from_os_error(exc) from exc

    def filestat(self) -> Filestat:
        try:
            return Filestat.from_os(os.fstat(self.host_fd))
        except OSError as exc:
            raise from_os_error(exc) from exc

    def set_size(self, size: int) -> None:
        self._need(Rights.FD_WRITE)
        try:
            os.ftruncate(self.host_fd, size)
        except OSError as exc:
            raise from_os_error(exc) from exc

    def set_times(self, atim: int | None, mtim: int | None) -> None:
        self._need(Rights.FD_WRITE)
        st = os.fstat(self.host_fd)
        try:
            os.utime(self.host_fd, ns=(atim if atim is not None else st.st_atime_ns,
                                       mtim if mtim is not None else st.st_mtime_ns))
        except OSError as exc:
            raise from_os_error(exc) from exc

    def close(self) -> None:
        try:
            os.close(self.host_fd)
        except OSError:
            pass

    def describe(self) -> str:
        return self.name


__all__ = ["ALL_RIGHTS", "Dirent", "Filestat", "HostStreamFile", "NullFile", "RegularFile", "WasiFile"]
