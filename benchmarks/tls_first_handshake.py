"""How long from `enarx run --test` starting to its first accepted TLS handshake?

With a warm module cache and an existing test CA, the time from spawning the process to a
client's first completed TLS 1.3 handshake (certificate verified by application name),
against the same for a plain Python asyncio + ssl server process. Median of RUNS runs
each (default 7). Prints both and the ratio; the target is <= 0.5 s for the Keep.

    .venv/bin/python -m benchmarks.tls_first_handshake [RUNS]
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks._common import ROOT, free_port
from benchmarks._tls import ASYNCIO_TLS_SERVER, client_context, keep_config, self_signed


def first_handshake(cmd: list[str], env: dict[str, str], port: int, cafile: Path, hostname: str) -> float:
    context = client_context(cafile)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=5) as raw, context.wrap_socket(
                    raw, server_hostname=hostname
                ):
                    return time.perf_counter() - start
            except (ConnectionRefusedError, ConnectionResetError):
                if proc.poll() is not None:
                    raise SystemExit(f"server exited with {proc.returncode}") from None
                time.sleep(0.002)
    finally:
        proc.kill()
        proc.wait()


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    enarx = str(ROOT / ".venv" / "bin" / "enarx")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        env = {**os.environ, "XDG_CACHE_HOME": str(work / "cache")}
        port = free_port()
        config = keep_config(work / "keep", port)
        keep_cmd = [enarx, "run", "--test", "--wasmcfgfile", str(config), str(config.parent / "main.wasm")]
        root = work / "cache" / "enarx" / "test-steward" / "ca" / "root.pem"
        warm = subprocess.Popen(keep_cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while not root.exists():  # first run: test CA and module cache are made
            time.sleep(0.05)
        time.sleep(1.0)
        warm.kill()
        warm.wait()
        ours = statistics.median(
            first_handshake(keep_cmd, env, port, root, "echo.app.enarx.test") for _ in range(runs)
        )
        cert = self_signed(work)
        base_port = free_port()
        base_cmd = [sys.executable, "-c", ASYNCIO_TLS_SERVER, str(base_port), str(cert)]
        baseline = statistics.median(
            first_handshake(base_cmd, env, base_port, cert, "baseline.test") for _ in range(runs)
        )
    print(f"start to first accepted TLS handshake, median of {runs}")
    print(f"  ours:     {ours * 1000:.0f} ms  enarx run --test (warm module cache, existing test CA)")
    print(f"  baseline: {baseline * 1000:.0f} ms  python asyncio + ssl server")
    print(f"  ratio:    {ours / baseline:.2f}; target for ours <= 500 ms: {'OK' if ours <= 0.5 else 'MISSED'}")


if __name__ == "__main__":
    main()
