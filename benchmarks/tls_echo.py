"""TLS echo throughput through a Keep (`enarx run --test`, TLS terminated in the Keep) against
a plain Python asyncio + ssl echo server, in the same run.

A client sends 64 KiB messages over TLS 1.3 and reads each echo back for DURATION seconds
(default 20) per server. Prints MB/s of each and the ratio (target >= 0.7).

    .venv/bin/python -m benchmarks.tls_echo [DURATION]
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks._common import ROOT, free_port, report
from benchmarks._tls import ASYNCIO_TLS_SERVER, MESSAGE, client_context, keep_config, self_signed


def connect(port: int, cafile: Path, hostname: str, deadline: float) -> socket.socket:
    context = client_context(cafile)
    while True:
        try:
            raw = socket.create_connection(("127.0.0.1", port), timeout=5)
            return context.wrap_socket(raw, server_hostname=hostname)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def measure(conn: socket.socket, duration: float) -> float:
    payload = bytes(range(256)) * (MESSAGE // 256)
    total = 0
    start = time.perf_counter()
    while time.perf_counter() - start < duration:
        conn.sendall(payload)
        got = 0
        while got < MESSAGE:
            chunk = conn.recv(MESSAGE - got)
            if not chunk:
                raise SystemExit("server closed the connection")
            got += len(chunk)
        total += MESSAGE
    return total / (time.perf_counter() - start) / 1e6


def main() -> None:
    duration = float(sys.argv[1]) if len(sys.argv) > 1 else 20.0
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        env = {**os.environ, "XDG_CACHE_HOME": str(work / "cache")}
        port = free_port()
        config = keep_config(work / "keep", port)
        keep = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "enarx"), "run", "--test", "--wasmcfgfile", str(config), str(config.parent / "main.wasm")],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            root = work / "cache" / "enarx" / "test-steward" / "ca" / "root.pem"
            deadline = time.monotonic() + 60
            while not root.exists():
                time.sleep(0.05)
            with connect(port, root, "echo.app.enarx.test", deadline) as conn:
                ours = measure(conn, duration)
        finally:
            keep.kill()
            keep.wait()
        port = free_port()
        cert = self_signed(work)
        baseline_proc = subprocess.Popen([sys.executable, "-c", ASYNCIO_TLS_SERVER, str(port), str(cert)])
        try:
            with connect(port, cert, "baseline.test", time.monotonic() + 60) as conn:
                baseline = measure(conn, duration)
        finally:
            baseline_proc.kill()
            baseline_proc.wait()
    ratio = ours / baseline
    report(
        f"TLS 1.3 echo, 64 KiB messages, {duration:g} s each",
        f"{ours:.1f} MB/s through a Keep (enarx run --test, C echo server)",
        f"{baseline:.1f} MB/s plain Python asyncio + ssl echo server",
        ratio, ">= 0.7", ratio >= 0.7,
    )


if __name__ == "__main__":
    main()
