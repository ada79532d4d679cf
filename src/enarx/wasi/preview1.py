"""``wasi_snapshot_preview1``: moves data between guest memory and the fd objects.

Like wasi-common's ``snapshots/preview_1.rs``, this layer only decodes arguments from guest
memory, calls the fd table and its file, directory and socket objects, and encodes results
back. It knows nothing of the engine: :mod:`enarx.wasi.binding` links it into wasmtime, and
unit tests drive it over a ``bytearray``.

Every method takes the call's integer arguments (pointers and u64s already unsigned) and
returns an errno; failures are raised as :class:`WasiError` and turned into errnos by the
binding. :class:`ProcExit` and :class:`~enarx.wasi.waiting.Interrupted` end the run.
"""

from __future__ import annotations

import os
import time

from enarx.wasi import abi
from enarx.wasi.abi import Clockid, Eventtype, Fdflags, Filetype, Fstflags, Oflags, Rights, Whence
from enarx.wasi.ctx import ProcExit, WasiCtx
from enarx.wasi.errno import Errno, WasiError
from enarx.wasi.files import WasiFile
from enarx.wasi.memory import MAX_IO_CHUNK, GuestMemory

# iovec entries one call may pass (POSIX IOV_MAX).
MAX_IOVS = 1024
# Subscriptions one poll_oneoff may carry; the guest chooses the count.
MAX_SUBSCRIPTIONS = 4096
# random_get bytes per call; larger requests are refused as wasi-common refuses them.
MAX_RANDOM = 1 << 20

_U64 = (1 << 64) - 1
_IOVEC = abi.IOVEC
_U32 = abi.U32


def _signed64(value: int) -> int:
    return value - (1 << 64) if value & (1 << 63) else value


class Preview1:
    """The preview 1 functions over one :class:`WasiCtx` and one guest memory."""

    def __init__(self, ctx: WasiCtx, memory: GuestMemory | None = None) -> None:
        self.ctx = ctx
        self.mem = memory if memory is not None else GuestMemory(memoryview(bytearray()))

    # -- helpers --------------------------------------------------------------------------
    def _iovecs(self, iovs: int, count: int) -> list[tuple[int, int]]:
        if count > MAX_IOVS:
            raise WasiError(Errno.INVAL, f"{count} iovecs is more than {MAX_IOVS}")
        unpack = self.mem.unpack
        return [unpack(abi.IOVEC, iovs + 8 * i) for i in range(count)]

    def _gather(self, iovs: int, count: int) -> memoryview:
        vecs = self._iovecs(iovs, count)
        if len(vecs) == 1:
            ptr, length = vecs[0]
            return self.mem.slice(ptr, min(length, MAX_IO_CHUNK))
        data = b"".join(self.mem.slice(p, n) for p, n in vecs)
        return memoryview(data[:MAX_IO_CHUNK])

    def _scatter_size(self, vecs: list[tuple[int, int]]) -> int:
        return min(sum(n for _p, n in vecs), MAX_IO_CHUNK)

    def _scatter(self, vecs: list[tuple[int, int]], data: bytes) -> None:
        offset = 0
        for ptr, length in vecs:
            if offset >= len(data):
                break
            chunk = data[offset : offset + length]
            self.mem.write(ptr, chunk)
            offset += len(chunk)

    def _file(self, fd: int, right: Rights | None = None) -> WasiFile:
        file = self.ctx.fds.get(fd)
        if right is not None and not file.rights & right:
            raise WasiError(Errno.NOTCAPABLE, f"fd {fd} ({file.describe()}) lacks {right.name}")
        return file

    def _dir(self, fd: int) -> WasiFile:
        return self.ctx.fds.get(fd)  # path operations on anything else answer NOTDIR

    def _path(self, ptr: int, length: int) -> str:
        return self.mem.string(ptr, length)

    # -- args, environment, clocks, random, process ------------------------------------
    def args_sizes_get(self, argc_ptr: int, size_ptr: int) -> int:
        args = self.ctx.encoded_args()
        self.mem.pack(abi.U32, argc_ptr, len(args))
        self.mem.pack(abi.U32, size_ptr, sum(map(len, args)))
        return 0

    def args_get(self, argv_ptr: int, buf_ptr: int) -> int:
        return self._put_strings(self.ctx.encoded_args(), argv_ptr, buf_ptr)

    def environ_sizes_get(self, count_ptr: int, size_ptr: int) -> int:
        env = self.ctx.encoded_env()
        self.mem.pack(abi.U32, count_ptr, len(env))
        self.mem.pack(abi.U32, size_ptr, sum(map(len, env)))
        return 0

    def environ_get(self, environ_ptr: int, buf_ptr: int) -> int:
        return self._put_strings(self.ctx.encoded_env(), environ_ptr, buf_ptr)

    def _put_strings(self, items: list[bytes], ptrs: int, buf: int) -> int:
        for i, item in enumerate(items):
            self.mem.pack(abi.U32, ptrs + 4 * i, buf)
            self.mem.write(buf, item)
            buf += len(item)
        return 0

    def clock_res_get(self, clock_id: int, res_ptr: int) -> int:
        if clock_id not in Clockid._value2member_map_:
            raise WasiError(Errno.INVAL, f"unknown clock {clock_id}")
        self.mem.pack(abi.U64, res_ptr, 1000)  # microsecond resolution is what we promise
        return 0

    def clock_time_get(self, clock_id: int, _precision: int, time_ptr: int) -> int:
        self.mem.pack(abi.U64, time_ptr, _clock_now(clock_id))
        return 0

    def random_get(self, buf: int, length: int) -> int:
        if length > MAX_RANDOM:
            raise WasiError(Errno.INVAL, f"random_get of {length} bytes is more than {MAX_RANDOM}")
        self.mem.write(buf, os.urandom(length))  # the kernel CSPRNG, as secrets would use
        return 0

    def proc_exit(self, code: int) -> int:
        self.ctx.exit_code = code
        raise ProcExit(code)

    def proc_raise(self, _sig: int) -> int:
        raise WasiError(Errno.NOTSUP, "signals are not supported")

    def sched_yield(self) -> int:
        os.sched_yield()
        return 0

    # -- fd operations --------------------------------------------------------------------
    def fd_write(self, fd: int, iovs: int, iovs_len: int, nwritten_ptr: int) -> int:
        # The hottest call there is (every printf): one iovec goes straight from guest
        # memory to the host without a copy.
        file = self.ctx.fds.get(fd)
        mem = self.mem
        if iovs_len == 1:
            ptr, length = mem.unpack(_IOVEC, iovs)
            data = mem.slice(ptr, length if length < MAX_IO_CHUNK else MAX_IO_CHUNK)
        else:
            data = self._gather(iovs, iovs_len)
        mem.pack(_U32, nwritten_ptr, file.write(data) if data else 0)
        return 0

    def fd_read(self, fd: int, iovs: int, iovs_len: int, nread_ptr: int) -> int:
        file = self.ctx.fds.get(fd)
        vecs = self._iovecs(iovs, iovs_len)
        size = self._scatter_size(vecs)
        data = file.read(size) if size else b""
        self._scatter(vecs, data)
        self.mem.pack(abi.U32, nread_ptr, len(data))
        return 0

    def fd_pread(self, fd: int, iovs: int, iovs_len: int, offset: int, nread_ptr: int) -> int:
        file = self.ctx.fds.get(fd)
        vecs = self._iovecs(iovs, iovs_len)
        data = file.pread(self._scatter_size(vecs), offset)
        self._scatter(vecs, data)
        self.mem.pack(abi.U32, nread_ptr, len(data))
        return 0

    def fd_pwrite(self, fd: int, iovs: int, iovs_len: int, offset: int, nwritten_ptr: int) -> int:
        file = self.ctx.fds.get(fd)
        written = file.pwrite(self._gather(iovs, iovs_len), offset)
        self.mem.pack(abi.U32, nwritten_ptr, written)
        return 0

    def fd_seek(self, fd: int, offset: int, whence: int, newoffset_ptr: int) -> int:
        if whence not in Whence._value2member_map_:
            raise WasiError(Errno.INVAL, f"whence {whence}")
        position = self.ctx.fds.get(fd).seek(_signed64(offset), Whence(whence))
        self.mem.pack(abi.U64, newoffset_ptr, position)
        return 0

    def fd_tell(self, fd: int, offset_ptr: int) -> int:
        self.mem.pack(abi.U64, offset_ptr, self.ctx.fds.get(fd).seek(0, Whence.CUR))
        return 0

    def fd_close(self, fd: int) -> int:
        self.ctx.fds.close(fd)
        return 0

    def fd_sync(self, fd: int) -> int:
        self.ctx.fds.get(fd).sync()
        return 0

    fd_datasync = fd_sync

    def fd_advise(self, fd: int, _offset: int, _length: int, advice: int) -> int:
        self.ctx.fds.get(fd)
        if advice > 5:
            raise WasiError(Errno.INVAL, f"advice {advice}")
        return 0  # advice is only advice

    def fd_allocate(self, fd: int, _offset: int, _length: int) -> int:
        self.ctx.fds.get(fd)
        raise WasiError(Errno.NOTSUP, "fd_allocate is not supported")

    def fd_fdstat_get(self, fd: int, buf: int) -> int:
        file = self.ctx.fds.get(fd)
        self.mem.pack(abi.FDSTAT, buf, file.filetype, file.fdflags, file.rights, file.inheriting)
        return 0

    def fd_fdstat_set_flags(self, fd: int, flags: int) -> int:
        self._file(fd, Rights.FD_FDSTAT_SET_FLAGS).set_fdflags(Fdflags(flags & 0x1F))
        return 0

    def fd_fdstat_set_rights(self, fd: int, base: int, inheriting: int) -> int:
        file = self.ctx.fds.get(fd)
        if Rights(base & ((1 << 30) - 1)) & ~file.rights or base >> 30:
            raise WasiError(Errno.NOTCAPABLE, "rights can only be dropped, never added")
        file.rights = Rights(base)
        file.inheriting = Rights(inheriting & ((1 << 30) - 1)) & file.inheriting
        return 0

    def fd_filestat_get(self, fd: int, buf: int) -> int:
        st = self.ctx.fds.get(fd).filestat()
        self.mem.pack(abi.FILESTAT, buf, st.dev, st.ino, st.filetype, st.nlink, st.size, st.atim, st.mtim, st.ctim)
        return 0

    def fd_filestat_set_size(self, fd: int, size: int) -> int:
        self.ctx.fds.get(fd).set_size(size)
        return 0

    def fd_filestat_set_times(self, fd: int, atim: int, mtim: int, fst_flags: int) -> int:
        a, m = _times(atim, mtim, fst_flags)
        self.ctx.fds.get(fd).set_times(a, m)
        return 0

    def fd_prestat_get(self, fd: int, buf: int) -> int:
        name = self.ctx.fds.get(fd).preopen_name()
        if name is None:
            # wasi-libc scans fds from 3 and stops at the first BADF: any non-pre-open ends it.
            raise WasiError(Errno.BADF, f"fd {fd} is not a pre-opened directory")
        self.mem.pack(abi.PRESTAT, buf, abi.PREOPENTYPE_DIR, len(name.encode()))
        return 0

    def fd_prestat_dir_name(self, fd: int, path: int, path_len: int) -> int:
        guest_name = self.ctx.fds.get(fd).preopen_name()
        if guest_name is None:
            raise WasiError(Errno.BADF, f"fd {fd} is not a pre-opened directory")
        name = guest_name.encode()
        if path_len < len(name):
            raise WasiError(Errno.NAMETOOLONG, "buffer too small for the pre-open's name")
        self.mem.write(path, name)
        return 0

    def fd_readdir(self, fd: int, buf: int, buf_len: int, cookie: int, bufused_ptr: int) -> int:
        directory = self._file(fd, Rights.FD_READDIR)
        out = bytearray()
        for entry in directory.readdir(cookie):
            out += abi.DIRENT.pack(entry.next_cookie, entry.ino, len(entry.name), entry.filetype) + entry.name
            if len(out) >= buf_len:
                break
        # A full buffer tells libc to call again with the last cookie it saw.
        used = min(len(out), buf_len)
        self.mem.write(buf, out[:used])
        self.mem.pack(abi.U32, bufused_ptr, used)
        return 0

    def fd_renumber(self, fd: int, to: int) -> int:
        self.ctx.fds.renumber(fd, to)
        return 0

    # -- paths ----------------------------------------------------------------------------
    def path_open(
        self, fd: int, dirflags: int, path: int, path_len: int, oflags: int,
        rights_base: int, _rights_inheriting: int, fdflags: int, fd_ptr: int,
    ) -> int:
        directory = self._dir(fd)
        opened = directory.open_at(
            self._path(path, path_len),
            follow=bool(dirflags & abi.LOOKUP_SYMLINK_FOLLOW),
            oflags=Oflags(oflags & 0xF),
            rights=Rights(rights_base & ((1 << 30) - 1)),
            fdflags=Fdflags(fdflags & 0x1F),
        )
        if oflags & Oflags.DIRECTORY and opened.filetype != Filetype.DIRECTORY:
            opened.close()
            raise WasiError(Errno.NOTDIR, "not a directory")
        try:
            new_fd = self.ctx.fds.push(opened)
        except WasiError:
            opened.close()
            raise
        self.mem.pack(abi.U32, fd_ptr, new_fd)
        return 0

    def path_filestat_get(self, fd: int, flags: int, path: int, path_len: int, buf: int) -> int:
        st = self._dir(fd).path_filestat(self._path(path, path_len), follow=bool(flags & abi.LOOKUP_SYMLINK_FOLLOW))
        self.mem.pack(abi.FILESTAT, buf, st.dev, st.ino, st.filetype, st.nlink, st.size, st.atim, st.mtim, st.ctim)
        return 0

    def path_filestat_set_times(
        self, fd: int, flags: int, path: int, path_len: int, atim: int, mtim: int, fst_flags: int
    ) -> int:
        a, m = _times(atim, mtim, fst_flags)
        self._dir(fd).path_set_times(
            self._path(path, path_len), follow=bool(flags & abi.LOOKUP_SYMLINK_FOLLOW), atim=a, mtim=m
        )
        return 0

    def path_create_directory(self, fd: int, path: int, path_len: int) -> int:
        self._dir(fd).create_directory(self._path(path, path_len))
        return 0

    def path_remove_directory(self, fd: int, path: int, path_len: int) -> int:
        self._dir(fd).remove_directory(self._path(path, path_len))
        return 0

    def path_unlink_file(self, fd: int, path: int, path_len: int) -> int:
        self._dir(fd).unlink_file(self._path(path, path_len))
        return 0

    def path_rename(self, fd: int, old: int, old_len: int, new_fd: int, new: int, new_len: int) -> int:
        self._dir(fd).rename(self._path(old, old_len), self._dir(new_fd), self._path(new, new_len))
        return 0

    def path_readlink(self, fd: int, path: int, path_len: int, buf: int, buf_len: int, used_ptr: int) -> int:
        target = self._dir(fd).readlink(self._path(path, path_len))[:buf_len]
        self.mem.write(buf, target)
        self.mem.pack(abi.U32, used_ptr, len(target))
        return 0

    def path_symlink(self, _old: int, _old_len: int, fd: int, _new: int, _new_len: int) -> int:
        self._dir(fd)
        raise WasiError(Errno.NOTSUP, "creating symlinks is not supported")

    def path_link(self, fd: int, _flags: int, _old: int, _old_len: int, _new_fd: int, _new: int, _new_len: int) -> int:
        self._dir(fd)
        raise WasiError(Errno.NOTSUP, "hard links are not supported")

    # -- sockets --------------------------------------------------------------------------
    def sock_accept(self, fd: int, flags: int, fd_ptr: int) -> int:
        listener = self.ctx.fds.get(fd)
        if flags & ~int(Fdflags.NONBLOCK):
            raise WasiError(Errno.INVAL, f"sock_accept flags {flags:#x}")
        conn = listener.accept()
        conn.fdflags = Fdflags(flags)
        try:
            new_fd = self.ctx.fds.push(conn)
        except WasiError:
            conn.close()
            raise
        self.mem.pack(abi.U32, fd_ptr, new_fd)
        return 0

    def sock_recv(self, fd: int, iovs: int, iovs_len: int, ri_flags: int, len_ptr: int, flags_ptr: int) -> int:
        file = self.ctx.fds.get(fd)
        vecs = self._iovecs(iovs, iovs_len)
        size = self._scatter_size(vecs)
        peek = bool(ri_flags & abi.RIFLAGS_RECV_PEEK)
        data = file.recv(size, peek) if size else b""
        if ri_flags & abi.RIFLAGS_RECV_WAITALL and not peek:
            parts = [data]
            got = len(data)
            while data and got < size:
                data = file.recv(size - got, False)
                parts.append(data)
                got += len(data)
            data = b"".join(parts)
        self._scatter(vecs, data)
        self.mem.pack(abi.U32, len_ptr, len(data))
        self.mem.pack(abi.U16, flags_ptr, 0)  # roflags is a u16
        return 0

    def sock_send(self, fd: int, iovs: int, iovs_len: int, _si_flags: int, len_ptr: int) -> int:
        file = self.ctx.fds.get(fd)
        data = self._gather(iovs, iovs_len)
        sent = file.send(data) if data else 0
        self.mem.pack(abi.U32, len_ptr, sent)
        return 0

    def sock_shutdown(self, fd: int, how: int) -> int:
        self.ctx.fds.get(fd).shutdown(how)
        return 0

    # -- poll -----------------------------------------------------------------------------
    def poll_oneoff(self, in_ptr: int, out_ptr: int, nsubs: int, nevents_ptr: int) -> int:
        if nsubs == 0:
            raise WasiError(Errno.INVAL, "poll_oneoff with no subscriptions")
        if nsubs > MAX_SUBSCRIPTIONS:
            raise WasiError(Errno.INVAL, f"{nsubs} subscriptions is more than {MAX_SUBSCRIPTIONS}")
        now = time.monotonic()
        events: list[tuple[int, int, int, int, int]] = []  # userdata, errno, type, nbytes, flags
        deadlines: list[tuple[float, int]] = []
        readers: dict[int, list[tuple[int, int]]] = {}  # host fd -> [(userdata, guest fd)]
        writers: dict[int, list[tuple[int, int]]] = {}
        for i in range(nsubs):
            userdata, tag, body = self.mem.unpack(abi.SUBSCRIPTION, in_ptr + i * abi.SUBSCRIPTION.size)
            if tag == Eventtype.CLOCK:
                clock_id, clock_timeout, _precision, flags = abi.SUBSCRIPTION_CLOCK.unpack_from(body)
                if clock_id not in Clockid._value2member_map_:
                    events.append((userdata, Errno.INVAL, Eventtype.CLOCK, 0, 0))
                    continue
                if flags & abi.SUBCLOCKFLAGS_ABSTIME:
                    delay = (clock_timeout - _clock_now(clock_id)) / 1e9
                else:
                    delay = clock_timeout / 1e9
                deadlines.append((now + max(0.0, delay), userdata))
            elif tag in (Eventtype.FD_READ, Eventtype.FD_WRITE):
                (fd,) = abi.SUBSCRIPTION_FD.unpack_from(body)
                try:
                    file = self._file(fd, Rights.POLL_FD_READWRITE)
                except WasiError as exc:
                    events.append((userdata, exc.errno, tag, 0, 0))
                    continue
                host_fd = file.poll_fd()
                pending = file.buffered() if tag == Eventtype.FD_READ else 0
                if host_fd is None or pending:
                    events.append((userdata, 0, tag, pending, 0))
                else:
                    (readers if tag == Eventtype.FD_READ else writers).setdefault(host_fd, []).append((userdata, fd))
            else:
                events.append((userdata, Errno.INVAL, tag, 0, 0))
        if readers or writers or not events:
            timeout: float | None
            if events:
                timeout = 0.0
            elif deadlines:
                timeout = max(0.0, min(d for d, _u in deadlines) - time.monotonic())
            else:
                timeout = None
            ready_r, ready_w = self.ctx.waiter.wait(list(readers), list(writers), timeout)
            for host_fd in ready_r:
                nbytes = _readable_bytes(host_fd)
                for userdata, _fd in readers[host_fd]:
                    events.append((userdata, 0, Eventtype.FD_READ, nbytes, 0))
            for host_fd in ready_w:
                for userdata, _fd in writers[host_fd]:
                    events.append((userdata, 0, Eventtype.FD_WRITE, 0, 0))
        after = time.monotonic()
        for deadline, userdata in deadlines:
            if deadline <= after:
                events.append((userdata, 0, Eventtype.CLOCK, 0, 0))
        for i, (userdata, err, kind, nbytes, flags) in enumerate(events):
            self.mem.pack(abi.EVENT, out_ptr + i * abi.EVENT.size, userdata, err, kind, nbytes, flags)
        self.mem.pack(abi.U32, nevents_ptr, len(events))
        return 0


def _clock_now(clock_id: int) -> int:
    if clock_id == Clockid.REALTIME:
        return time.time_ns()
    if clock_id == Clockid.MONOTONIC:
        return time.monotonic_ns()
    if clock_id == Clockid.PROCESS_CPUTIME_ID:
        return time.process_time_ns()
    if clock_id == Clockid.THREAD_CPUTIME_ID:
        return time.thread_time_ns()
    raise WasiError(Errno.INVAL, f"unknown clock {clock_id}")


def _times(atim: int, mtim: int, fst_flags: int) -> tuple[int | None, int | None]:
    flags = Fstflags(fst_flags & 0xF)
    if (flags & Fstflags.ATIM and flags & Fstflags.ATIM_NOW) or (flags & Fstflags.MTIM and flags & Fstflags.MTIM_NOW):
        raise WasiError(Errno.INVAL, "both a time and NOW were given")
    now = time.time_ns()
    a = atim if flags & Fstflags.ATIM else now if flags & Fstflags.ATIM_NOW else None
    m = mtim if flags & Fstflags.MTIM else now if flags & Fstflags.MTIM_NOW else None
    return a, m


def _readable_bytes(host_fd: int) -> int:
    # Imported here: termios is a millisecond of start-up and only polls on stdio need it.
    import fcntl
    import termios

    try:
        buf = fcntl.ioctl(host_fd, termios.FIONREAD, b"\0\0\0\0")
        return int.from_bytes(buf, "little")
    except OSError:
        return 0


# name -> parameter kinds ("i" i32, "I" i64). Every function returns an i32 errno, except
# proc_exit which returns nothing. This is the whole preview 1 import set.
SIGNATURES: dict[str, str] = {
    "args_get": "ii", "args_sizes_get": "ii", "environ_get": "ii", "environ_sizes_get": "ii",
    "clock_res_get": "ii", "clock_time_get": "iIi",
    "fd_advise": "iIIi", "fd_allocate": "iII", "fd_close": "i", "fd_datasync": "i",
    "fd_fdstat_get": "ii", "fd_fdstat_set_flags": "ii", "fd_fdstat_set_rights": "iII",
    "fd_filestat_get": "ii", "fd_filestat_set_size": "iI", "fd_filestat_set_times": "iIIi",
    "fd_pread": "iiiIi", "fd_prestat_get": "ii", "fd_prestat_dir_name": "iii",
    "fd_pwrite": "iiiIi", "fd_read": "iiii", "fd_readdir": "iiiIi", "fd_renumber": "ii",
    "fd_seek": "iIii", "fd_sync": "i", "fd_tell": "ii", "fd_write": "iiii",
    "path_create_directory": "iii", "path_filestat_get": "iiiii",
    "path_filestat_set_times": "iiiiIIi", "path_link": "iiiiiii", "path_open": "iiiiiIIii",
    "path_readlink": "iiiiii", "path_remove_directory": "iii", "path_rename": "iiiiii",
    "path_symlink": "iiiii", "path_unlink_file": "iii",
    "poll_oneoff": "iiii", "proc_exit": "i", "proc_raise": "i", "sched_yield": "",
    "random_get": "ii", "sock_accept": "iii", "sock_recv": "iiiiii", "sock_send": "iiiii",
    "sock_shutdown": "ii",
}
NO_RESULT = frozenset({"proc_exit"})

__all__ = ["NO_RESULT", "SIGNATURES", "Preview1"]
