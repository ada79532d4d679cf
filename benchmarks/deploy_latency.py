"""``enarx deploy`` of an already-fetched package, to its first accepted connection.

Question: once a package is in the local cache, how long from ``enarx deploy`` to a workload
answering on its socket? The package is examples/echo-tcp, published to a registry served on
loopback, deployed once to fill the package and compiled-module caches; then each run starts
``enarx deploy`` as a user does (a new process) and times until an echoed line comes back over
TCP -- not only until the port accepts, since the Keep opens its listening socket before the
workload runs. echo-tcp is an insecure deployment (host stdio, plaintext TCP), so it runs with
``--unsafe`` (the debug build): no attestation, as with ``enarx run --unsafe``. Pinned (``@sha-256:``) deploys of a cached package need no network; unpinned
ones ask the registry for the tag first. Target: <= 1 s.

Run: PYTHONPATH=src .venv/bin/python benchmarks/deploy_latency.py
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

from _common import EXAMPLES, free_port

from enarx.registry.app import Registry
from enarx.registry.auth import ALL_SCOPES, new_local_token
from enarx.registry.client import RegistryClient
from enarx.registry.repoconfig import RepoConfig
from enarx.registry.serve import Listen, running
from enarx.registry.settings import RegistrySettings

RUNS = 5
TIMEOUT = 30.0



def enarx() -> list[str]:
    script = Path(sys.executable).parent / "enarx"
    return [str(script)] if script.exists() else [sys.executable, "-m", "enarx"]


def deploy_once(target: str, port: int, env: dict[str, str]) -> float:
    start = time.perf_counter()
    # echo-tcp uses host stdio and plaintext TCP, which only --unsafe (debug build) permits.
    proc = subprocess.Popen([*enarx(), "deploy", "--unsafe", target, "--set", f"files.3.port={port}"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    try:
        while time.perf_counter() - start < TIMEOUT:
            if proc.poll() is not None:
                raise RuntimeError(f"deploy exited with {proc.returncode}: {proc.stderr.read().decode() if proc.stderr else ''}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
                    conn.sendall(b"ping\n")
                    if conn.recv(64):
                        return time.perf_counter() - start
            except OSError:
                time.sleep(0.005)
        raise RuntimeError("no echo within the timeout")
    finally:
        proc.kill()
        proc.wait()
        if proc.stderr:
            proc.stderr.close()


def main() -> int:
    files = {name: (EXAMPLES / "echo-tcp" / name).read_bytes() for name in ("main.wasm", "Enarx.toml")}
    with tempfile.TemporaryDirectory() as tmp:
        registry = Registry(RegistrySettings(Path(tmp) / "registry"))
        token, digest = new_local_token()
        registry.meta.add_token(digest, "bench", ALL_SCOPES)
        port = free_port()
        with running(registry.app, Listen("127.0.0.1", port)):
            with RegistryClient(f"http://127.0.0.1:{port}", token=token) as client:
                client.register_user("bench", "bench")
                client.register_repo("bench", "echo", RepoConfig(public=True))
                tree = client.publish("bench", "echo", "1.0.0", files)
            slug = f"http://127.0.0.1:{port}/bench/echo:1.0.0"
            pinned = f"{slug}@sha-256:{tree.sha256.hex()}"
            env = dict(os.environ, XDG_CACHE_HOME=str(Path(tmp) / "cache"))
            env.pop("ENARX_LOG", None)
            deploy_once(pinned, free_port(), env)  # fetch, verify, compile: fills the caches
            results = {}
            for name, target in (("pinned", pinned), ("unpinned", slug)):
                results[name] = [deploy_once(target, free_port(), env) for _ in range(RUNS)]
        registry.close()

    ok = True
    for name, times in results.items():
        median = statistics.median(times)
        ok &= median <= 1.0 if name == "pinned" else True
        print(f"enarx deploy ({name} slug, package cached) to the first echoed line, {RUNS} runs")
        print(f"  median {median * 1000:.0f} ms, best {min(times) * 1000:.0f} ms, worst {max(times) * 1000:.0f} ms "
              f"(target <= 1000 ms) {'OK' if median <= 1.0 else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
