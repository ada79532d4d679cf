"""The six file operations a backend performs on kernel or Gramine pseudo-files.

configfs-tsm and Gramine's ``/dev/attestation`` are files whose contents the kernel (or the
Gramine runtime) computes when they are read. Backends reach them only through this
interface so that tests can put a simulator behind the very same calls (see
``tests/keep/tsm_sim.py``); :data:`OS_FS` is the real thing and is all that ships.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final, Protocol


class PseudoFs(Protocol):
    def mkdir(self, path: Path) -> None: ...

    def rmdir(self, path: Path) -> None: ...

    def read(self, path: Path) -> bytes: ...

    def write(self, path: Path, data: bytes) -> None: ...

    def is_dir(self, path: Path) -> bool: ...

    def exists(self, path: Path) -> bool: ...


class OsFs:
    """Plain system calls. Writes are one ``write(2)``: configfs binary attributes take the
    whole value per open, and a short write would leave a truncated ``inblob``. ``O_TRUNC``
    is what a shell's ``>`` does to configfs and Gramine files (harmless there) and makes a
    shorter value replace a longer one on an ordinary file."""

    def mkdir(self, path: Path) -> None:
        os.mkdir(path)

    def rmdir(self, path: Path) -> None:
        # configfs removes an item's attribute files with it; rmdir(2) is the whole teardown.
        os.rmdir(path)

    def read(self, path: Path) -> bytes:
        with open(path, "rb") as f:
            return f.read()

    def write(self, path: Path, data: bytes) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
        try:
            written = os.write(fd, data)
        finally:
            os.close(fd)
        if written != len(data):
            raise OSError(f"short write to {path}: {written} of {len(data)} bytes")

    def is_dir(self, path: Path) -> bool:
        try:  # pathlib lets EACCES through; a directory we cannot see is not there for us
            return path.is_dir()
        except OSError:
            return False

    def exists(self, path: Path) -> bool:
        try:
            return path.exists()
        except OSError:
            return False


OS_FS: Final = OsFs()
