"""How much does one WASI host call cost on our host, against wasmtime's built-in WASI?

A module calls fd_write of 16 bytes N times (examples/testdata/fdwrite-loop.wasm), writing
to /dev/null, once on the project's WASI host and once on wasmtime's built-in WASI, in
the same process. Prints the per-call cost of each and the ratio (target <= 10x).

    .venv/bin/python benchmarks/wasi_hostcall.py [N]
"""

from __future__ import annotations

import os
import sys
import time

import wasmtime

from benchmarks._common import TESTDATA, report
from enarx.config import load_config
from enarx.keep.runner import run_module
from enarx.keep.workload import HostStdio


def run_ours(wasm: bytes, count: int, null_fd: int) -> float:
    loaded = load_config(None, overrides=[f'args=["{count}"]'])
    start = time.perf_counter()
    outcome = run_module(wasm, loaded, stdio=HostStdio(stdin=null_fd, stdout=null_fd, stderr=2))
    elapsed = time.perf_counter() - start
    assert outcome.status == 0, outcome
    return elapsed


def run_builtin(wasm: bytes, count: int) -> float:
    engine = wasmtime.Engine()
    module = wasmtime.Module(engine, wasm)
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    store = wasmtime.Store(engine)
    wasi = wasmtime.WasiConfig()
    wasi.argv = ["main.wasm", str(count)]
    wasi.stdout_file = os.devnull
    store.set_wasi(wasi)
    instance = linker.instantiate(store, module)
    start_fn = instance.exports(store)["_start"]
    start = time.perf_counter()
    try:
        start_fn(store)  # type: ignore[operator]
    except wasmtime.ExitTrap as exit_trap:
        assert exit_trap.code == 0
    return time.perf_counter() - start


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    wasm = (TESTDATA / "fdwrite-loop.wasm").read_bytes()
    null_fd = os.open(os.devnull, os.O_RDWR)
    run_ours(wasm, 1000, null_fd)  # warm up: compile and import paths
    ours = run_ours(wasm, count, null_fd)
    builtin = run_builtin(wasm, count)
    ratio = ours / builtin
    report(
        f"fd_write of 16 bytes, {count:,} calls",
        f"{ours * 1e6 / count:.2f} µs/call ({ours:.2f} s)",
        f"{builtin * 1e6 / count:.2f} µs/call with wasmtime's built-in WASI ({builtin:.2f} s)",
        ratio, "<= 10", ratio <= 10,
    )


if __name__ == "__main__":
    main()
