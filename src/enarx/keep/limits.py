"""The watchdog that enforces wall-clock and CPU-time limits on a running workload.

Wasm code is stopped by bumping the engine's epoch (the store's deadline is one tick), and
a workload blocked in a host call is woken through the :class:`~enarx.wasi.Waiter`. The
epoch moves only when a limit is hit, so an unlimited run pays nothing but the epoch checks.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import wasmtime

from enarx.wasi.waiting import Waiter

if TYPE_CHECKING:
    import threading

# How often limits are checked; a limit is enforced to within about this much.
WATCHDOG_INTERVAL = 0.02


class Watchdog:
    def __init__(
        self, engine: wasmtime.Engine, waiter: Waiter, *, wall_time: float | None, cpu_time: float | None
    ) -> None:
        self.engine = engine
        self.waiter = waiter
        self.wall_time = wall_time
        self.cpu_time = cpu_time
        self.reason: str | None = None
        self._stop: threading.Event | None = None
        self._thread: threading.Thread | None = None

    @property
    def active(self) -> bool:
        return self.wall_time is not None or self.cpu_time is not None

    def start(self) -> None:
        if not self.active:
            return  # an unlimited run needs no thread, and does not import threading
        import threading

        self._stop = threading.Event()
        self._wall_start = time.monotonic()
        self._cpu_start = time.process_time()
        self._thread = threading.Thread(target=self._watch, name="enarx-watchdog", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        assert self._stop is not None
        while not self._stop.wait(WATCHDOG_INTERVAL):
            reason = self._exceeded()
            if reason is not None:
                self.reason = reason
                self.waiter.interrupt(reason)
                self.engine.increment_epoch()
                return

    def _exceeded(self) -> str | None:
        if self.wall_time is not None and time.monotonic() - self._wall_start >= self.wall_time:
            return f"wall time limit of {self.wall_time:g}s reached"
        if self.cpu_time is not None and time.process_time() - self._cpu_start >= self.cpu_time:
            return f"CPU time limit of {self.cpu_time:g}s reached"
        return None

    def stop(self) -> None:
        if self._stop is not None:
            self._stop.set()
        if self._thread is not None:
            self._thread.join()
