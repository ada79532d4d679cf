"""Shared helpers for the benchmarks: paths, timing, printing a ratio."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
TESTDATA = EXAMPLES / "testdata"


def best_of(runs: int, fn: Callable[[], object]) -> float:
    """The fastest of ``runs`` timings of ``fn`` (the least disturbed by the noisy machine)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def median_of(runs: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def report(question: str, ours: str, baseline: str, ratio: float, target: str, ok: bool) -> None:
    print(f"{question}")
    print(f"  ours:     {ours}")
    print(f"  baseline: {baseline}")
    print(f"  ratio:    {ratio:.2f} (target {target}) {'OK' if ok else 'MISSED'}")
