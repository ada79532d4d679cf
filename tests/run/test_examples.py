"""Every example workload through the real ``enarx`` command, checked by output and exit code."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, free_port, run_enarx, wait_for_port


def example(name: str) -> list[str]:
    return ["run", "--unsafe", "--wasmcfgfile", str(EXAMPLES / name / "Enarx.toml"), str(EXAMPLES / name / "main.wasm")]


def test_hello_prints_and_exits_zero(enarx_env: dict[str, str]) -> None:
    result = run_enarx(example("hello"), enarx_env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"Hello, world!\n"
    assert result.stderr == b""


def test_hello_without_config_gets_stdio(enarx_env: dict[str, str]) -> None:
    result = run_enarx(["run", "--unsafe", str(EXAMPLES / "hello" / "main.wasm")], enarx_env)
    assert (result.returncode, result.stdout) == (0, b"Hello, world!\n")


def test_fibonacci_reads_args(enarx_env: dict[str, str]) -> None:
    result = run_enarx(["run", "--unsafe", "--set", 'args=["10", "20"]', *example("fibonacci")[1:]], enarx_env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().splitlines() == ["fib(10) = 55", "fib(20) = 6765"]


def test_fibonacci_reads_stdin_when_no_args(enarx_env: dict[str, str]) -> None:
    args = ["run", "--unsafe", "--set", "args=[]", *example("fibonacci")[1:]]
    result = run_enarx(args, enarx_env, stdin=b"1\n2\n30\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().splitlines() == ["fib(1) = 1", "fib(2) = 1", "fib(30) = 832040"]


def test_fibonacci_bad_input_is_its_own_exit_code(enarx_env: dict[str, str]) -> None:
    args = ["run", "--unsafe", "--set", 'args=["twelve"]', *example("fibonacci")[1:]]
    result = run_enarx(args, enarx_env)
    assert result.returncode == 2
    assert b"twelve" in result.stderr


def test_file_reader_reads_its_preopen_and_cannot_escape(enarx_env: dict[str, str]) -> None:
    result = run_enarx(example("file-reader"), enarx_env)
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode()
    assert (EXAMPLES / "file-reader" / "data" / "message.txt").read_text() in out
    refusals = [line for line in out.splitlines() if line.startswith(("escape refused", "write refused"))]
    assert len(refusals) >= 3
    assert "root:" not in out  # /etc/passwd never leaked


def _vanish(port: int) -> None:
    """A client that sends a lot and disappears with a reset, mid-stream."""
    rude = socket.create_connection(("127.0.0.1", port), timeout=10)
    rude.sendall(b"x" * 200_000)
    rude.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, (1).to_bytes(4, "little") + (0).to_bytes(4, "little"))
    rude.close()


def _echo_large(port: int) -> None:
    client = socket.create_connection(("127.0.0.1", port), timeout=10)
    payload = bytes(range(256)) * 2048  # 512 KiB, more than any socket buffer
    sender = threading.Thread(target=client.sendall, args=(payload,))
    sender.start()
    assert _recv_exactly(client, len(payload)) == payload
    sender.join()
    client.close()


@pytest.mark.parametrize("name", ["echo-tcp", "echo-tcp-rust"])
def test_echo_server_keeps_serving_after_a_client_vanishes(
    name: str, spawn: Callable[[list[str]], object]
) -> None:
    # C uses sock_recv/sock_send, Rust std fd_read/fd_write: both paths are exercised.
    port = free_port()
    proc = spawn(["run", "--unsafe", "--set", f"files.3.port={port}", *example(name)[1:]])
    wait_for_port(port, proc)  # type: ignore[arg-type]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as first:
        first.sendall(b"hello\n")
        assert _recv_exactly(first, 6) == b"hello\n"
    _vanish(port)
    _echo_large(port)
    assert proc.poll() is None  # type: ignore[attr-defined]


def test_c_echo_server_serves_clients_concurrently(spawn: Callable[[list[str]], object]) -> None:
    port = free_port()
    proc = spawn(["run", "--unsafe", "--set", f"files.3.port={port}", *example("echo-tcp")[1:]])
    wait_for_port(port, proc)  # type: ignore[arg-type]
    first = socket.create_connection(("127.0.0.1", port), timeout=10)
    first.sendall(b"hello\n")
    assert _recv_exactly(first, 6) == b"hello\n"
    _vanish(port)
    _echo_large(port)  # while `first` is still connected
    first.sendall(b"still here\n")
    assert _recv_exactly(first, 11) == b"still here\n"
    first.close()
    assert proc.poll() is None  # type: ignore[attr-defined]


def _recv_exactly(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(min(65536, n - len(data)))
        if not chunk:
            break
        data += chunk
    return data


def test_client_talks_to_a_server_through_its_connect_fd(enarx_env: dict[str, str]) -> None:
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    received: list[bytes] = []

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            line = b""
            while not line.endswith(b"\n"):
                chunk = conn.recv(1024)
                if not chunk:
                    break
                line += chunk
            received.append(line)
            conn.sendall(b"pong: " + line)

    thread = threading.Thread(target=serve)
    thread.start()
    result = run_enarx(["run", "--unsafe", "--set", f"files.3.port={port}", *example("client-tcp")[1:]], enarx_env)
    thread.join(timeout=10)
    server.close()
    assert result.returncode == 0, result.stderr
    assert received == [b"ping\n"]
    assert b"pong: ping" in result.stdout


def test_client_with_nobody_listening_fails_before_starting(enarx_env: dict[str, str]) -> None:
    port = free_port()
    result = run_enarx(["run", "--unsafe", "--set", f"files.3.port={port}", *example("client-tcp")[1:]], enarx_env)
    assert result.returncode == 125
    assert f"cannot connect to 127.0.0.1:{port}".encode() in result.stderr
    assert b"Traceback" not in result.stderr


def test_examples_have_sources_and_configs() -> None:
    for name in ("hello", "fibonacci", "echo-tcp", "client-tcp", "file-reader"):
        directory = EXAMPLES / name
        assert (directory / "Enarx.toml").is_file()
        assert (directory / "main.wasm").read_bytes().startswith(b"\0asm")
        assert any(p.suffix in (".c", ".rs") for p in Path(directory).iterdir())
    assert (EXAMPLES / "build.sh").is_file()
