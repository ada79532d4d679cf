"""Start-up: `enarx run --unsafe hello.wasm` with a warm module cache, against the least a Python
program can do: import wasmtime and run the same module on wasmtime's built-in WASI.

Both are whole processes, timed over RUNS runs each (median), in the same run. Prints the
ratio (target <= 1.25).

    .venv/bin/python -m benchmarks.startup [RUNS]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile

from benchmarks._common import EXAMPLES, ROOT, median_of, report

BASELINE = """
import wasmtime
engine = wasmtime.Engine()
module = wasmtime.Module.from_file(engine, {path!r})
linker = wasmtime.Linker(engine)
linker.define_wasi()
store = wasmtime.Store(engine)
wasi = wasmtime.WasiConfig()
wasi.inherit_stdout()
store.set_wasi(wasi)
linker.instantiate(store, module).exports(store)["_start"](store)
"""


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    hello = EXAMPLES / "hello" / "main.wasm"
    enarx = str(ROOT / ".venv" / "bin" / "enarx")
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "XDG_CACHE_HOME": cache}
        ours_cmd = [enarx, "run", "--unsafe", str(hello)]
        base_cmd = [sys.executable, "-c", BASELINE.format(path=str(hello))]
        for cmd in (ours_cmd, base_cmd):  # warm the module cache and the OS page cache
            subprocess.run(cmd, env=env, check=True, capture_output=True)

        def run(cmd: list[str]) -> None:
            subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)

        # Interleaved, so a burst of load elsewhere on the machine hits both sides alike.
        ours_times, base_times = [], []
        for _ in range(runs):
            ours_times.append(median_of(1, lambda: run(ours_cmd)))
            base_times.append(median_of(1, lambda: run(base_cmd)))
        ours, baseline = statistics.median(ours_times), statistics.median(base_times)
    ratio = ours / baseline
    report(
        f"wall time of one hello run, median of {runs}",
        f"{ours * 1000:.0f} ms  enarx run hello.wasm (warm module cache)",
        f"{baseline * 1000:.0f} ms  python -c: import wasmtime, built-in WASI",
        ratio, "<= 1.25", ratio <= 1.25,
    )


if __name__ == "__main__":
    main()
