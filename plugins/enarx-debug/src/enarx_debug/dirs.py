"""Directory pre-opens whose paths cannot leave their root (debug build only: host files).

Every guest path is resolved here, component by component, against the pre-open's host
root: absolute paths are refused, ``..`` may not climb above the root, and each symlink met
on the way is read and resolved with the same rules, so a link pointing outside (absolute
or by ``..``) is refused too. Only the final component may be left unresolved when the guest
asked not to follow it. Refusals are ``NOTCAPABLE``, as in wasi-common.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator

from enarx.wasi.abi import (
    READ_ONLY_DIR_RIGHTS,
    READ_ONLY_FILE_RIGHTS,
    Fdflags,
    Filetype,
    Oflags,
    Rights,
    Whence,
)
from enarx.wasi.errno import Errno, WasiError, from_os_error
from enarx.wasi.files import Dirent, Filestat, WasiFile, filetype_of_mode

# Symlinks followed while resolving one path: the same bound as Linux's MAXSYMLINKS.
MAX_SYMLINK_HOPS = 40
# Longest guest path accepted, as PATH_MAX.
MAX_PATH_LENGTH = 4096

WRITE_DIR_RIGHTS = (
    Rights.PATH_CREATE_DIRECTORY | Rights.PATH_CREATE_FILE | Rights.PATH_RENAME_SOURCE
    | Rights.PATH_RENAME_TARGET | Rights.PATH_REMOVE_DIRECTORY | Rights.PATH_UNLINK_FILE
    | Rights.PATH_FILESTAT_SET_SIZE | Rights.PATH_FILESTAT_SET_TIMES
)
WRITE_FILE_RIGHTS = (
    Rights.FD_WRITE | Rights.FD_DATASYNC | Rights.FD_SYNC | Rights.FD_ALLOCATE
    | Rights.FD_FILESTAT_SET_SIZE | Rights.FD_FILESTAT_SET_TIMES
)


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


class Dir(WasiFile):
    """A directory the guest can open paths under: a pre-open, or one opened beneath it."""

    filetype = Filetype.DIRECTORY

    def __init__(self, root: str, rel: str, *, guest_name: str, writable: bool) -> None:
        super().__init__()
        self.root = os.path.realpath(root)  # the pre-open's host root: the jail
        self.rel = rel  # this directory, relative to root ("" for the pre-open itself)
        self.guest_name = guest_name
        self.writable = writable
        self.rights = READ_ONLY_DIR_RIGHTS | (WRITE_DIR_RIGHTS if writable else Rights(0))
        file_rights = READ_ONLY_FILE_RIGHTS | (WRITE_FILE_RIGHTS if writable else Rights(0))
        self.inheriting = self.rights | file_rights

    def describe(self) -> str:
        return f"directory {self.guest_name!r}"

    def preopen_name(self) -> str | None:
        return None if self.rel else self.guest_name

    # -- resolution -----------------------------------------------------------------------
    def resolve(self, path: str, *, follow: bool) -> str:
        """The host path of ``path`` (relative to this directory), proven to be inside root."""
        if len(path) > MAX_PATH_LENGTH:
            raise WasiError(Errno.NAMETOOLONG, "path too long")
        if "\0" in path:
            raise WasiError(Errno.ILSEQ, "path contains NUL")
        if path.startswith("/"):
            raise WasiError(Errno.NOTCAPABLE, f"absolute path {path!r} is outside the pre-open")
        stack = [p for p in self.rel.split("/") if p]
        pending = [p for p in path.split("/") if p not in ("", ".")]
        pending.reverse()
        trailing_slash = path.endswith("/")
        hops = 0
        while pending:
            part = pending.pop()
            if part == "..":
                if not stack:
                    raise WasiError(Errno.NOTCAPABLE, f"path {path!r} climbs above the pre-open")
                stack.pop()
                continue
            candidate = os.path.join(self.root, *stack, part)
            is_last = not pending
            try:
                st = os.lstat(candidate)
            except FileNotFoundError:
                stack.append(part)
                continue  # may be created (the last part) or fail later with NOENT
            except OSError as exc:
                raise from_os_error(exc) from exc
            if stat.S_ISLNK(st.st_mode) and (not is_last or follow or trailing_slash):
                hops += 1
                if hops > MAX_SYMLINK_HOPS:
                    raise WasiError(Errno.LOOP, f"too many symlinks in {path!r}")
                target = os.readlink(candidate)
                if target.startswith("/"):
                    raise WasiError(Errno.NOTCAPABLE, f"symlink {part!r} points outside the pre-open")
                pending.extend(reversed([p for p in target.split("/") if p not in ("", ".")]))
                continue
            stack.append(part)
        return os.path.join(self.root, *stack)

    def _rel_of(self, host_path: str) -> str:
        return os.path.relpath(host_path, self.root) if host_path != self.root else ""

    def _need(self, right: Rights, what: str) -> None:
        if not self.rights & right:
            raise WasiError(Errno.NOTCAPABLE, f"{self.describe()} is read-only: cannot {what}")

    # -- operations -----------------------------------------------------------------------
    def open_at(
        self, path: str, *, follow: bool, oflags: Oflags, rights: Rights, fdflags: Fdflags
    ) -> WasiFile:
        host = self.resolve(path, follow=follow)
        wants_write = bool(rights & (Rights.FD_WRITE | Rights.FD_ALLOCATE | Rights.FD_FILESTAT_SET_SIZE)) or bool(
            oflags & (Oflags.CREAT | Oflags.TRUNC)
        ) or bool(fdflags & Fdflags.APPEND)
        if wants_write and not self.writable:
            # Open read-only when the guest asked for more rights than it will use (wasi-libc
            # asks for all rights on a plain fopen("r")); refuse only real writes.
            if oflags & (Oflags.CREAT | Oflags.TRUNC) or fdflags & Fdflags.APPEND:
                raise WasiError(Errno.NOTCAPABLE, f"{self.describe()} is read-only")
            wants_write = False
        flags = os.O_CLOEXEC | os.O_NOCTTY
        if not follow:
            flags |= os.O_NOFOLLOW
        if oflags & Oflags.CREAT:
            flags |= os.O_CREAT
        if oflags & Oflags.EXCL:
            flags |= os.O_EXCL
        if oflags & Oflags.TRUNC:
            flags |= os.O_TRUNC
        if oflags & Oflags.DIRECTORY:
            flags |= os.O_DIRECTORY
        read_wanted = bool(rights & (Rights.FD_READ | Rights.FD_READDIR)) or not wants_write
        if wants_write:
            flags |= os.O_RDWR if read_wanted else os.O_WRONLY
        else:
            flags |= os.O_RDONLY
        if fdflags & Fdflags.APPEND:
            flags |= os.O_APPEND
        try:
            if os.path.isdir(host) and not oflags & (Oflags.CREAT | Oflags.TRUNC):
                if not follow and os.path.islink(host):
                    raise WasiError(Errno.LOOP, f"{path!r} is a symlink")
                return Dir(self.root, self._rel_of(host), guest_name=path, writable=self.writable)
            fd = os.open(host, flags, 0o644)
        except WasiError:
            raise
        except OSError as exc:
            raise from_os_error(exc) from exc
        base = READ_ONLY_FILE_RIGHTS | (WRITE_FILE_RIGHTS if wants_write else Rights(0))
        granted = base & (rights | Rights.POLL_FD_READWRITE | Rights.FD_FDSTAT_SET_FLAGS)
        file = RegularFile(fd, granted, path)
        file.fdflags = fdflags & (Fdflags.APPEND | Fdflags.NONBLOCK)
        return file

    def filestat(self) -> Filestat:
        try:
            return Filestat.from_os(os.stat(os.path.join(self.root, self.rel)))
        except OSError as exc:
            raise from_os_error(exc) from exc

    def path_filestat(self, path: str, *, follow: bool) -> Filestat:
        host = self.resolve(path, follow=follow)
        try:
            return Filestat.from_os(os.stat(host) if follow else os.lstat(host))
        except OSError as exc:
            raise from_os_error(exc) from exc

    def path_set_times(self, path: str, *, follow: bool, atim: int | None, mtim: int | None) -> None:
        self._need(Rights.PATH_FILESTAT_SET_TIMES, "set times")
        host = self.resolve(path, follow=follow)
        try:
            st = os.stat(host)
            os.utime(host, ns=(atim if atim is not None else st.st_atime_ns,
                               mtim if mtim is not None else st.st_mtime_ns), follow_symlinks=follow)
        except OSError as exc:
            raise from_os_error(exc) from exc

    def create_directory(self, path: str) -> None:
        self._need(Rights.PATH_CREATE_DIRECTORY, "create a directory")
        try:
            os.mkdir(self.resolve(path, follow=False))
        except OSError as exc:
            raise from_os_error(exc) from exc

    def remove_directory(self, path: str) -> None:
        self._need(Rights.PATH_REMOVE_DIRECTORY, "remove a directory")
        host = self.resolve(path, follow=False)
        if host == self.root:
            raise WasiError(Errno.NOTCAPABLE, "cannot remove the pre-open itself")
        try:
            os.rmdir(host)
        except OSError as exc:
            raise from_os_error(exc) from exc

    def unlink_file(self, path: str) -> None:
        self._need(Rights.PATH_UNLINK_FILE, "unlink a file")
        host = self.resolve(path, follow=False)
        if os.path.isdir(host) and not os.path.islink(host):
            raise WasiError(Errno.ISDIR, f"{path!r} is a directory")
        try:
            os.unlink(host)
        except OSError as exc:
            raise from_os_error(exc) from exc

    def rename(self, old: str, new_dir: WasiFile, new: str) -> None:
        if not isinstance(new_dir, Dir):
            raise WasiError(Errno.NOTDIR, f"{new_dir.describe()} is not a directory")
        self._need(Rights.PATH_RENAME_SOURCE, "rename")
        new_dir._need(Rights.PATH_RENAME_TARGET, "rename into it")
        try:
            os.rename(self.resolve(old, follow=False), new_dir.resolve(new, follow=False))
        except OSError as exc:
            raise from_os_error(exc) from exc

    def readlink(self, path: str) -> bytes:
        host = self.resolve(path, follow=False)
        try:
            return os.fsencode(os.readlink(host))
        except OSError as exc:
            raise from_os_error(exc) from exc

    def readdir(self, cookie: int) -> Iterator[Dirent]:
        here = os.path.join(self.root, self.rel)
        try:
            st_here = os.stat(here)
            entries = sorted(os.scandir(here), key=lambda e: e.name)
        except OSError as exc:
            raise from_os_error(exc) from exc
        parent_ino = st_here.st_ino
        listing: list[tuple[bytes, int, Filetype]] = [
            (b".", st_here.st_ino, Filetype.DIRECTORY),
            (b"..", parent_ino, Filetype.DIRECTORY),
        ]
        for entry in entries:
            try:
                st = entry.stat(follow_symlinks=False)
                listing.append((os.fsencode(entry.name), st.st_ino, filetype_of_mode(st.st_mode)))
            except OSError:
                continue  # vanished while listing
        for index in range(cookie, len(listing)):
            name, ino, ftype = listing[index]
            yield Dirent(index + 1, ino, name, ftype)
