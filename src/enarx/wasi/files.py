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
from typing import NamedTuple

from enarx.wasi.abi import Fdflags, Filetype, Oflags, Rights, Whence
from enarx.wasi.errno import Errno, WasiError


class Filestat(NamedTuple):
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


class Dirent(NamedTuple):
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

    # -- directories (granted by directory pre-opens, which only the debug build has) ---
    def readdir(self, cookie: int) -> Iterator[Dirent]:
        raise WasiError(Errno.NOTDIR, f"{self.describe()} is not a directory")

    def preopen_name(self) -> str | None:
        """The guest path of a pre-opened directory; ``None`` for anything else."""
        return None

    def open_at(self, path: str, *, follow: bool, oflags: Oflags, rights: Rights, fdflags: Fdflags) -> WasiFile:
        raise WasiError(Errno.NOTDIR, f"{self.describe()} is not a directory")

    def path_filestat(self, path: str, *, follow: bool) -> Filestat:
        raise WasiError(Errno.NOTDIR, f"{self.describe()} is not a directory")

    def path_set_times(self, path: str, *, follow: bool, atim: int | None, mtim: int | None) -> None:
        raise WasiError(Errno.NOTDIR, f"{self.describe()} is not a directory")

    def create_directory(self, path: str) -> None:
        raise WasiError(Errno.NOTDIR, f"{self.describe()} is not a directory")

    def remove_directory(self, path: str) -> None:
        raise WasiError(Errno.NOTDIR, f"{self.describe()} is not a directory")

    def unlink_file(self, path: str) -> None:
        raise WasiError(Errno.NOTDIR, f"{self.describe()} is not a directory")

    def rename(self, old: str, new_dir: WasiFile, new: str) -> None:
        raise WasiError(Errno.NOTDIR, f"{self.describe()} is not a directory")

    def readlink(self, path: str) -> bytes:
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


__all__ = ["Dirent", "Filestat", "NullFile", "WasiFile", "filetype_of_mode"]
