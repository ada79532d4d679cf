"""The preview 1 layer over a bytearray: no engine, no wasm, just memory and fd objects."""

from __future__ import annotations

import os
import socket
import struct
import time
from pathlib import Path

import pytest
import wasmtime

from enarx.wasi import (
    SIGNATURES,
    Errno,
    FdTable,
    GuestMemory,
    NullFile,
    Preview1,
    ProcExit,
    Waiter,
    WasiBinding,
    WasiCtx,
    WasiError,
    abi,
)
from enarx.wasi.abi import Filetype, Oflags, Rights
from enarx_debug.dirs import Dir
from enarx_debug.tcp import TcpListener


def make(files: dict[int, object] | None = None, *, args: list[str] | None = None) -> tuple[Preview1, bytearray]:
    memory = bytearray(65536)
    ctx = WasiCtx(args=args or ["main.wasm"], env={"A": "1"})
    for fd, file in (files or {}).items():
        ctx.fds.insert_at(fd, file)  # type: ignore[arg-type]
    return Preview1(ctx, GuestMemory(memoryview(memory))), memory


def u32(memory: bytearray, ptr: int) -> int:
    return int(struct.unpack_from("<I", memory, ptr)[0])


def put_iovec(memory: bytearray, at: int, buf: int, length: int) -> None:
    struct.pack_into("<II", memory, at, buf, length)


def test_whole_preview1_import_set_is_defined() -> None:
    assert len(SIGNATURES) == 46
    engine = wasmtime.Engine()
    linker = wasmtime.Linker(engine)
    WasiBinding(linker, make()[0])
    imports = "".join(
        f'(import "wasi_snapshot_preview1" "{name}" (func (param {" ".join("i32" if k == "i" else "i64" for k in kinds)})'
        f'{"" if name == "proc_exit" else " (result i32)"}))'
        for name, kinds in SIGNATURES.items()
    )
    module = wasmtime.Module(engine, f'(module {imports} (memory (export "memory") 1) (func (export "_start")))')
    linker.instantiate(wasmtime.Store(engine), module)  # links: every import is satisfied with the right type


def test_args_and_environ_layout() -> None:
    p1, memory = make(args=["main.wasm", "x"])
    assert p1.args_sizes_get(0, 4) == 0
    assert (u32(memory, 0), u32(memory, 4)) == (2, len("main.wasm\0x\0"))
    p1.args_get(100, 200)
    assert bytes(memory[200:212]) == b"main.wasm\0x\0"
    assert (u32(memory, 100), u32(memory, 104)) == (200, 210)
    p1.environ_sizes_get(0, 4)
    assert (u32(memory, 0), u32(memory, 4)) == (1, 4)
    p1.environ_get(300, 400)
    assert bytes(memory[400:404]) == b"A=1\0"


def test_out_of_bounds_pointers_fault() -> None:
    p1, _ = make()
    with pytest.raises(WasiError) as info:
        p1.args_sizes_get(65535, 0)
    assert info.value.errno == Errno.FAULT
    with pytest.raises(WasiError) as info:
        p1.random_get(65530, 100)
    assert info.value.errno == Errno.FAULT


def test_fd_write_gathers_iovecs_and_null_swallows() -> None:
    p1, memory = make({5: NullFile()})
    memory[100:105] = b"hello"
    put_iovec(memory, 0, 100, 5)
    put_iovec(memory, 8, 100, 3)
    assert p1.fd_write(5, 0, 2, 50) == 0
    assert u32(memory, 50) == 8
    assert p1.fd_read(5, 0, 1, 50) == 0 and u32(memory, 50) == 0  # end of file


def test_bad_fd_is_badf_with_reason() -> None:
    p1, _ = make()
    with pytest.raises(WasiError) as info:
        p1.fd_write(9, 0, 0, 0)
    assert info.value.errno == Errno.BADF and "fd 9" in info.value.reason


def test_default_deny_on_the_base_file() -> None:
    p1, _ = make({3: NullFile()})
    for call, errno in [
        (lambda: p1.sock_accept(3, 0, 0), Errno.BADF),
        (lambda: p1.sock_shutdown(3, 1), Errno.BADF),
        (lambda: p1.fd_seek(3, 0, 0, 0), Errno.SPIPE),
        (lambda: p1.path_open(3, 0, 0, 1, 0, 0, 0, 0, 0), Errno.NOTDIR),
        (lambda: p1.fd_prestat_get(3, 0), Errno.BADF),
        (lambda: p1.fd_allocate(3, 0, 1), Errno.NOTSUP),
        (lambda: p1.proc_raise(2), Errno.NOTSUP),
    ]:
        with pytest.raises(WasiError) as info:
            call()
        assert info.value.errno == errno


def test_proc_exit_carries_the_code() -> None:
    p1, _ = make()
    with pytest.raises(ProcExit) as info:
        p1.proc_exit(0)
    assert info.value.code == 0 and p1.ctx.exit_code == 0


def test_clock_and_poll_on_a_relative_clock() -> None:
    p1, memory = make()
    p1.clock_time_get(abi.Clockid.MONOTONIC, 0, 0)
    assert abs(struct.unpack_from("<Q", memory, 0)[0] - time.monotonic_ns()) < 5e9
    body = abi.SUBSCRIPTION_CLOCK.pack(abi.Clockid.MONOTONIC, 30_000_000, 0, 0).ljust(32, b"\0")
    abi.SUBSCRIPTION.pack_into(memory, 1000, 77, abi.Eventtype.CLOCK, body)
    started = time.monotonic()
    p1.poll_oneoff(1000, 2000, 1, 3000)
    assert time.monotonic() - started >= 0.025
    assert u32(memory, 3000) == 1
    userdata, error, kind, _n, _f = abi.EVENT.unpack_from(memory, 2000)
    assert (userdata, error, kind) == (77, 0, abi.Eventtype.CLOCK)


def test_poll_reports_a_readable_socket_before_its_timeout() -> None:
    server = socket.create_server(("127.0.0.1", 0))
    listener = TcpListener(server, "l", Waiter())
    p1, memory = make({3: listener})
    client = socket.create_connection(server.getsockname())
    abi.SUBSCRIPTION.pack_into(memory, 1000, 1, abi.Eventtype.FD_READ, abi.SUBSCRIPTION_FD.pack(3).ljust(32, b"\0"))
    clock = abi.SUBSCRIPTION_CLOCK.pack(abi.Clockid.MONOTONIC, 10 * 10**9, 0, 0).ljust(32, b"\0")
    abi.SUBSCRIPTION.pack_into(memory, 1048, 2, abi.Eventtype.CLOCK, clock)
    started = time.monotonic()
    p1.poll_oneoff(1000, 2000, 2, 3000)
    assert time.monotonic() - started < 5
    assert u32(memory, 3000) == 1 and abi.EVENT.unpack_from(memory, 2000)[0] == 1
    # accept, then non-blocking recv with nothing sent is AGAIN
    p1.sock_accept(3, abi.Fdflags.NONBLOCK, 4000)
    conn_fd = u32(memory, 4000)
    put_iovec(memory, 0, 100, 10)
    with pytest.raises(WasiError) as info:
        p1.sock_recv(conn_fd, 0, 1, 0, 50, 54)
    assert info.value.errno == Errno.AGAIN
    client.sendall(b"ping")
    time.sleep(0.05)
    memory[54:58] = b"\xff\xff\xff\xff"
    p1.sock_recv(conn_fd, 0, 1, 0, 50, 54)
    assert u32(memory, 50) == 4 and bytes(memory[100:104]) == b"ping"
    assert memory[56:58] == b"\xff\xff"  # roflags is a u16: nothing past it is touched
    client.close()
    p1.ctx.close()


def test_nonblocking_accept_without_pending_is_again() -> None:
    server = socket.create_server(("127.0.0.1", 0))
    p1, _ = make({3: TcpListener(server, "l", Waiter())})
    p1.fd_fdstat_set_flags(3, abi.Fdflags.NONBLOCK)
    with pytest.raises(WasiError) as info:
        p1.sock_accept(3, 0, 0)
    assert info.value.errno == Errno.AGAIN
    p1.ctx.close()


def test_blocking_accept_is_interrupted_by_the_runtime() -> None:
    import threading

    server = socket.create_server(("127.0.0.1", 0))
    waiter = Waiter()
    p1, _ = make({3: TcpListener(server, "l", waiter)})
    p1.ctx.waiter = waiter
    threading.Timer(0.1, waiter.interrupt, args=("test stop",)).start()
    from enarx.wasi import Interrupted

    with pytest.raises(Interrupted, match="test stop"):
        p1.sock_accept(3, 0, 0)
    p1.ctx.close()


# -- directory pre-opens ---------------------------------------------------------------

@pytest.fixture
def jail(tmp_path: Path) -> Path:
    root = tmp_path / "jail"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "file.txt").write_text("inside")
    (tmp_path / "secret.txt").write_text("outside")
    os.symlink("../secret.txt", root / "out-relative")
    os.symlink(str(tmp_path / "secret.txt"), root / "out-absolute")
    os.symlink("sub/file.txt", root / "in-link")
    os.symlink("sub/../../secret.txt", root / "sneaky")
    return root


def open_path(p1: Preview1, memory: bytearray, fd: int, path: str, *, follow: bool = True, oflags: int = 0,
              rights: int = int(Rights.FD_READ)) -> int:
    memory[500 : 500 + len(path)] = path.encode()
    p1.path_open(fd, 1 if follow else 0, 500, len(path), oflags, rights, 0, 0, 600)
    return u32(memory, 600)


@pytest.mark.parametrize("path", ["../secret.txt", "sub/../../secret.txt", "/etc/passwd", "out-relative",
                                  "out-absolute", "sneaky", "sub/../out-relative"])
def test_paths_cannot_escape_the_preopen(jail: Path, path: str) -> None:
    p1, memory = make({3: Dir(str(jail), "", guest_name="/data", writable=False)})
    with pytest.raises(WasiError) as info:
        open_path(p1, memory, 3, path)
    assert info.value.errno == Errno.NOTCAPABLE


def test_paths_inside_the_preopen_work(jail: Path) -> None:
    p1, memory = make({3: Dir(str(jail), "", guest_name="/data", writable=False)})
    for path in ("sub/file.txt", "in-link", "sub/./file.txt", "sub/../sub/file.txt"):
        fd = open_path(p1, memory, 3, path)
        put_iovec(memory, 0, 100, 64)
        p1.fd_read(fd, 0, 1, 50)
        assert bytes(memory[100 : 100 + u32(memory, 50)]) == b"inside"
        p1.fd_close(fd)


def test_symlink_not_followed_when_asked(jail: Path) -> None:
    p1, memory = make({3: Dir(str(jail), "", guest_name="/data", writable=False)})
    with pytest.raises(WasiError) as info:
        open_path(p1, memory, 3, "in-link", follow=False)
    assert info.value.errno == Errno.LOOP


def test_read_only_preopen_refuses_writes(jail: Path) -> None:
    p1, memory = make({3: Dir(str(jail), "", guest_name="/data", writable=False)})
    with pytest.raises(WasiError) as info:
        open_path(p1, memory, 3, "new.txt", oflags=Oflags.CREAT, rights=int(Rights.FD_WRITE))
    assert info.value.errno == Errno.NOTCAPABLE
    memory[500:503] = b"sub"
    with pytest.raises(WasiError) as info:
        p1.path_unlink_file(3, 500, 3)
    assert info.value.errno == Errno.NOTCAPABLE
    assert not (jail / "new.txt").exists()


def test_writable_preopen_creates_inside_only(jail: Path) -> None:
    p1, memory = make({3: Dir(str(jail), "", guest_name="/data", writable=True)})
    fd = open_path(p1, memory, 3, "new.txt", oflags=Oflags.CREAT, rights=int(Rights.FD_WRITE | Rights.FD_READ))
    memory[100:103] = b"abc"
    put_iovec(memory, 0, 100, 3)
    p1.fd_write(fd, 0, 1, 50)
    p1.fd_close(fd)
    assert (jail / "new.txt").read_text() == "abc"
    with pytest.raises(WasiError):
        open_path(p1, memory, 3, "../created-outside.txt", oflags=Oflags.CREAT, rights=int(Rights.FD_WRITE))
    assert not (jail.parent / "created-outside.txt").exists()


def test_prestat_and_readdir(jail: Path) -> None:
    p1, memory = make({3: Dir(str(jail), "", guest_name="/data", writable=False)})
    p1.fd_prestat_get(3, 0)
    assert struct.unpack_from("<BxxxI", memory, 0) == (0, 5)
    p1.fd_prestat_dir_name(3, 10, 5)
    assert bytes(memory[10:15]) == b"/data"
    p1.fd_readdir(3, 1000, 4096, 0, 50)
    used = u32(memory, 50)
    names = []
    offset = 1000
    while offset < 1000 + used:
        _next, _ino, namlen, _type = abi.DIRENT.unpack_from(memory, offset)
        names.append(bytes(memory[offset + 24 : offset + 24 + namlen]).decode())
        offset += 24 + namlen
    assert {".", "..", "sub", "in-link"} <= set(names)


def test_fdstat_reports_type_and_rights() -> None:
    p1, memory = make({3: NullFile()})
    p1.fd_fdstat_get(3, 0)
    filetype, _flags, rights, _inh = abi.FDSTAT.unpack_from(memory, 0)
    assert filetype == Filetype.CHARACTER_DEVICE and rights & Rights.FD_WRITE
    with pytest.raises(WasiError) as info:
        p1.fd_fdstat_set_rights(3, int(Rights.FD_READ | Rights.SOCK_ACCEPT), 0)
    assert info.value.errno == Errno.NOTCAPABLE  # rights are only ever dropped


def test_fd_table_limits_and_renumber() -> None:
    table = FdTable()
    table.insert_at(0, NullFile())
    table.insert_at(5, NullFile())
    assert table.push(NullFile()) == 1
    table.renumber(5, 1)
    assert 5 not in table and 1 in table
    with pytest.raises(WasiError):
        table.renumber(7, 1)
