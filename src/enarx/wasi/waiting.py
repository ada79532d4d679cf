"""Blocking on host I/O without losing the ability to stop the workload.

Every host socket and pipe the guest uses is non-blocking at the OS level; a guest's
blocking call is a wait here, on the object's host fd plus a wake-up pipe. The runtime's
watchdog calls :meth:`Waiter.interrupt` to stop a workload that is blocked in the host (a
time limit), which an epoch interruption alone could not do: epochs only stop wasm code.
"""

from __future__ import annotations

import _thread  # threading's own lock, without the threading module (a run's start-up)
import os
import select


class Interrupted(Exception):
    """The runtime stopped the workload while it was blocked in a host call."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Waiter:
    """Waits for host fds to be ready, or for :meth:`interrupt`."""

    def __init__(self) -> None:
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._lock = _thread.allocate_lock()
        self.stop_reason: str | None = None

    def interrupt(self, reason: str) -> None:
        """Ask the workload to stop; safe to call from another thread, and more than once."""
        with self._lock:
            if self.stop_reason is None:
                self.stop_reason = reason
        try:
            os.write(self._wake_w, b"!")
        except BlockingIOError:
            pass  # the pipe is full: a wake-up is already pending

    def check(self) -> None:
        if self.stop_reason is not None:
            raise Interrupted(self.stop_reason)

    def wait(
        self, readers: list[int], writers: list[int], timeout: float | None
    ) -> tuple[set[int], set[int]]:
        """Block until one of the fds is ready or ``timeout`` seconds pass (``None``: forever).

        Returns the ready readers and writers (both empty on timeout). Raises
        :class:`Interrupted` when the runtime asked the workload to stop.
        """
        self.check()
        poller = select.poll()
        for fd in readers:
            poller.register(fd, select.POLLIN | select.POLLPRI)
        for fd in writers:
            poller.register(fd, select.POLLOUT | (select.POLLIN if fd in readers else 0))
        poller.register(self._wake_r, select.POLLIN)
        ms = None if timeout is None else max(0, int(timeout * 1000 + 0.999))
        while True:
            try:
                events = poller.poll(ms)
            except InterruptedError:
                continue
            break
        self.check()
        ready_r: set[int] = set()
        ready_w: set[int] = set()
        for fd, mask in events:
            if fd == self._wake_r:
                continue
            # Errors and hang-ups count as ready: the next read or write reports them.
            if fd in readers and mask & (select.POLLIN | select.POLLPRI | select.POLLHUP | select.POLLERR):
                ready_r.add(fd)
            if fd in writers and mask & (select.POLLOUT | select.POLLHUP | select.POLLERR):
                ready_w.add(fd)
        return ready_r, ready_w

    def close(self) -> None:
        for fd in (self._wake_r, self._wake_w):
            try:
                os.close(fd)
            except OSError:
                pass
