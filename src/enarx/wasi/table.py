"""The fd table: which object each guest fd number names."""

from __future__ import annotations

from typing import TypeVar

from enarx.wasi.errno import Errno, WasiError
from enarx.wasi.files import WasiFile

# Most fds one workload may hold at once; the guest opens and accepts at will, so the table
# is bounded like a process's RLIMIT_NOFILE.
MAX_FDS = 1024

F = TypeVar("F", bound=WasiFile)


class FdTable:
    """Guest fd -> :class:`WasiFile`. Getters fail with ``BADF`` and say why."""

    def __init__(self) -> None:
        self._files: dict[int, WasiFile] = {}

    def __len__(self) -> int:
        return len(self._files)

    def __contains__(self, fd: int) -> bool:
        return fd in self._files

    def insert_at(self, fd: int, file: WasiFile) -> None:
        if fd in self._files:
            raise ValueError(f"fd {fd} is already in use")
        self._files[fd] = file

    def push(self, file: WasiFile) -> int:
        """Insert at the lowest free fd, as POSIX does."""
        if len(self._files) >= MAX_FDS:
            raise WasiError(Errno.MFILE, f"the workload already holds {MAX_FDS} fds")
        fd = 0
        while fd in self._files:
            fd += 1
        self._files[fd] = file
        return fd

    def get(self, fd: int) -> WasiFile:
        try:
            return self._files[fd]
        except KeyError:
            raise WasiError(Errno.BADF, f"fd {fd} is not open") from None

    def get_as(self, fd: int, kind: type[F], errno: Errno = Errno.BADF) -> F:
        file = self.get(fd)
        if not isinstance(file, kind):
            raise WasiError(errno, f"fd {fd} ({file.describe()}) is not a {kind.__name__}")
        return file

    def close(self, fd: int) -> None:
        self.get(fd)
        self._files.pop(fd).close()

    def renumber(self, src: int, dst: int) -> None:
        self.get(src)
        self.get(dst)  # POSIX dup2 would open dst; WASI requires it to be open already
        if src == dst:
            return
        self._files.pop(dst).close()
        self._files[dst] = self._files.pop(src)

    def close_all(self) -> None:
        for file in self._files.values():
            file.close()
        self._files.clear()

    def items(self) -> list[tuple[int, WasiFile]]:
        return sorted(self._files.items())
