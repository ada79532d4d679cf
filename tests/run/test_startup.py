"""What a plain ``enarx run`` loads and how it leaves the collector: the start-up budget
(benchmarks/startup.py) measured in time there, guarded here by what can be asserted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import EXAMPLES

# Modules a stdio-only run has no use for; each cost milliseconds of every start.
NOT_ON_THE_RUN_PATH = (
    "logging", "dataclasses", "inspect", "socket", "secrets", "threading", "json", "shutil", "ssl",
    "pydantic", "cryptography", "httpx", "tomllib", "importlib.metadata", "enarx.wasi.sockets",
)

# What the console script does (enarx.cli.main.entry), then a look at the process.
PROBE = """
import gc, sys
from enarx.cli import main
gc.disable()
status = main.main(["run", "--unsafe", sys.argv[1]], collector_paused=True)
report = {"status": status, "modules": sorted(sys.modules), "gc_enabled": gc.isenabled(), "frozen": gc.get_freeze_count()}
import json
sys.stderr.write(json.dumps(report))
"""


def probe(cache: Path) -> dict[str, object]:
    """The second of two runs: the first fills the module cache, as a user's earlier run would."""
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    for _ in range(2):
        proc = subprocess.run(
            [sys.executable, "-c", PROBE, str(EXAMPLES / "hello" / "main.wasm")],
            capture_output=True, text=True, timeout=60, check=True, env=env,
        )
    assert proc.stdout == "Hello, world!\n"
    report: dict[str, object] = json.loads(proc.stderr)
    return report


def test_a_stdio_run_loads_none_of_the_heavy_modules(tmp_path: Path) -> None:
    report = probe(tmp_path)
    assert report["status"] == 0
    loaded = set(report["modules"])  # type: ignore[arg-type]
    assert "wasmtime" in loaded and "enarx.keep.runner" in loaded  # the probe did run the workload
    assert sorted(loaded.intersection(NOT_ON_THE_RUN_PATH)) == []


def test_the_collector_is_back_on_with_start_up_frozen(tmp_path: Path) -> None:
    report = probe(tmp_path)
    assert report["gc_enabled"] is True
    assert isinstance(report["frozen"], int) and report["frozen"] > 10_000
