"""TCP echo throughput through `enarx run` of the echo example, against plain asyncio.

A client sends 64 KiB messages and reads each echo back, for DURATION seconds (default
20), first to `enarx run examples/echo-tcp` and then to a plain Python asyncio echo server
(each in its own process), in the same run. Prints MB/s of each and the ratio (target >= 0.5).

    .venv/bin/python -m benchmarks.tcp_echo [DURATION] [c|rust]
"""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
import time

from benchmarks._common import EXAMPLES, ROOT, free_port, report, wait_for

MESSAGE = 64 * 1024

ASYNCIO_SERVER = textwrap.dedent(
    """
    import asyncio, sys
    async def echo(reader, writer):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        writer.close()
    async def main():
        server = await asyncio.start_server(echo, "127.0.0.1", int(sys.argv[1]))
        async with server:
            await server.serve_forever()
    asyncio.run(main())
    """
)



def measure(port: int, duration: float) -> float:
    payload = bytes(range(256)) * (MESSAGE // 256)
    total = 0
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        deadline = time.perf_counter() + duration
        start = time.perf_counter()
        while time.perf_counter() < deadline:
            conn.sendall(payload)
            got = 0
            while got < MESSAGE:
                chunk = conn.recv(MESSAGE - got)
                if not chunk:
                    raise SystemExit("server closed the connection")
                got += len(chunk)
            total += MESSAGE
        elapsed = time.perf_counter() - start
    return total / elapsed / 1e6


def run_server(cmd: list[str], port: int, duration: float) -> float:
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(port)
        return measure(port, duration)
    finally:
        proc.kill()
        proc.wait()


def main() -> None:
    duration = float(sys.argv[1]) if len(sys.argv) > 1 else 20.0
    variant = sys.argv[2] if len(sys.argv) > 2 else "c"
    example = EXAMPLES / ("echo-tcp" if variant == "c" else "echo-tcp-rust")
    enarx = str(ROOT / ".venv" / "bin" / "enarx")
    port = free_port()
    ours = run_server(
        [enarx, "run", "--unsafe", "--wasmcfgfile", str(example / "Enarx.toml"), "--set", f"files.3.port={port}",
         str(example / "main.wasm")], port, duration,
    )
    port = free_port()
    baseline = run_server([sys.executable, "-c", ASYNCIO_SERVER, str(port)], port, duration)
    ratio = ours / baseline
    report(
        f"TCP echo, 64 KiB messages, {duration:g} s each ({example.name})",
        f"{ours:.1f} MB/s through enarx run",
        f"{baseline:.1f} MB/s plain Python asyncio echo server",
        ratio, ">= 0.5", ratio >= 0.5,
    )


if __name__ == "__main__":
    main()
