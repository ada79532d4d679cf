"""Shared fixtures: the real ``enarx`` command, example paths, free ports."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from hypothesis import settings

# CI runs the property-based tests with a fixed seed: a failure there is reproducible, and a
# green run means the same examples pass every time. Local runs keep exploring new inputs.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI") == "true":
    settings.load_profile("ci")

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
TESTDATA = EXAMPLES / "testdata"


def enarx_command() -> list[str]:
    """The installed console script, as a user runs it."""
    script = Path(sys.executable).parent / "enarx"
    return [str(script)] if script.exists() else [sys.executable, "-m", "enarx"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes] | None = None, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"process exited early with {proc.returncode}: {proc.stderr.read() if proc.stderr else ''}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listening on port {port} after {timeout}s")


@pytest.fixture
def enarx_env(tmp_path: Path) -> dict[str, str]:
    """An environment with its own module cache, so tests do not share state."""
    env = dict(os.environ)
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    env.pop("ENARX_LOG", None)
    return env


def run_enarx(
    args: Sequence[str], env: dict[str, str], *, stdin: bytes = b"", timeout: float = 60
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [*enarx_command(), *args], input=stdin, capture_output=True, env=env, timeout=timeout, check=False
    )


@pytest.fixture
def spawn(enarx_env: dict[str, str]) -> Iterator[object]:
    """Start ``enarx`` in the background; every process is killed at the end of the test."""
    procs: list[subprocess.Popen[bytes]] = []

    def start(args: Sequence[str]) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            [*enarx_command(), *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env=enarx_env,
        )
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()


def postgres_dsn() -> str:
    """A DSN with a fresh schema, from ENARX_TEST_POSTGRES_DSN; skip (or fail under CI=true) without."""
    dsn = os.environ.get("ENARX_TEST_POSTGRES_DSN")
    if not dsn:
        reason = "ENARX_TEST_POSTGRES_DSN is not set (.ci/start-postgres prints one)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in dsn else "?"
    return f"{dsn}{sep}options=-csearch_path%3D{schema}"
