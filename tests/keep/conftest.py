"""Keeps under test: a shared cache (one embedded test CA per test) and config writers."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, enarx_command, free_port, wait_for_port


def tls_echo_config(directory: Path, *, port: int, app: str = "echo", extra: str = "") -> Path:
    """The C echo server's module behind a TLS listener named "ingest", as ``app``."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "main.wasm").write_bytes((EXAMPLES / "echo-tcp" / "main.wasm").read_bytes())
    config = directory / "Enarx.toml"
    config.write_text(
        f'app = "{app}"\n[[files]]\nkind = "null"\n[[files]]\nkind = "null"\n[[files]]\nkind = "null"\n'
        f'[[files]]\nkind = "listen"\nname = "ingest"\nprot = "tls"\naddr = "127.0.0.1"\nport = {port}\n{extra}'
    )
    return config


def tls_client_config(directory: Path, *, port: int, peer: str | None) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "main.wasm").write_bytes((EXAMPLES / "client-tcp" / "main.wasm").read_bytes())
    config = directory / "Enarx.toml"
    peer_line = f'peer = "{peer}"\n' if peer else ""
    config.write_text(
        'app = "client"\nargs = ["ping"]\n'
        '[[files]]\nkind = "stdin"\n[[files]]\nkind = "stdout"\n[[files]]\nkind = "stderr"\n'
        f'[[files]]\nkind = "connect"\nname = "server"\nprot = "tls"\nhost = "127.0.0.1"\nport = {port}\n{peer_line}'
    )
    return config


@pytest.fixture
def keep(enarx_env: dict[str, str]) -> Iterator[Callable[..., tuple[subprocess.Popen[bytes], int]]]:
    """Start a TLS echo Keep under ``enarx run --test``; returns (process, port)."""
    procs: list[subprocess.Popen[bytes]] = []

    def start(config: Path, port: int, *extra: str) -> tuple[subprocess.Popen[bytes], int]:
        proc = subprocess.Popen(
            [*enarx_command(), "run", "--test", *extra, "--wasmcfgfile", str(config), str(config.parent / "main.wasm")],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=enarx_env,
        )
        procs.append(proc)
        wait_for_port(port, proc)
        return proc, port

    yield start
    for proc in procs:
        proc.kill()
        proc.wait(timeout=10)
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()


@pytest.fixture
def test_root(enarx_env: dict[str, str]) -> Path:
    """Where the embedded test Steward keeps its root CA for this test's cache."""
    return Path(enarx_env["XDG_CACHE_HOME"]) / "enarx" / "test-steward" / "ca" / "root.pem"


__all__ = ["free_port", "tls_client_config", "tls_echo_config"]
