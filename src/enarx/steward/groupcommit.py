"""Group commit: the issuance records of concurrent requests share one transaction.

The Steward's rule is that nothing leaves before it is logged, so every request waits for a
committed transaction holding its records. Committing each request on its own cost one thread
hand-off and one transaction apiece; under load the hand-offs dominated, because the writer
thread waits for the GIL while the event loop verifies the next CSR (up to the interpreter's
switch interval, 5 ms, each time). Here requests that arrive while a commit runs are queued
and committed together by the next one: one hand-off and one transaction (one fsync with
``synchronous = FULL``) per batch.

A commit that does not wait (SQLite with ``synchronous = NORMAL``: a write into the WAL)
runs on the event loop itself (``inline``): batching still happens, since the flush runs
after the requests ready in the same loop iteration have queued, and no thread hand-off is
paid at all. A commit that waits on a disk or the network always has the writer thread.

A failed batch is retried one request at a time, so a request only ever fails for its own
records (or a log that is down for everyone).
"""

from __future__ import annotations

import asyncio
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Generic, TypeVar

Record = TypeVar("Record")

MAX_BATCH = 256  # records a transaction takes at most; the rest wait for the next


class _Queue(Generic[Record]):
    """One event loop's waiting requests and whether a flush is running for them."""

    def __init__(self) -> None:
        self.waiting: deque[tuple[Sequence[Record], asyncio.Future[None]]] = deque()
        self.flusher: asyncio.Task[None] | None = None  # running while there is something to commit


class GroupCommit(Generic[Record]):
    """Commits records through ``commit`` (a blocking call) from one writer thread, in batches."""

    def __init__(self, commit: Callable[[Sequence[Record]], None], *, inline: bool = False, max_batch: int = MAX_BATCH) -> None:
        self._commit = commit
        self._inline = inline
        self._max_batch = max_batch
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="steward-log")
        # Per event loop: an app may be served by several loops in turn (tests, embedders).
        self._queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Queue[Record]] = weakref.WeakKeyDictionary()

    async def commit(self, records: Sequence[Record]) -> None:
        """Return once ``records`` are committed; raise what committing them raised."""
        loop = asyncio.get_running_loop()
        queue = self._queues.get(loop)
        if queue is None:
            queue = self._queues[loop] = _Queue()
        done: asyncio.Future[None] = loop.create_future()
        queue.waiting.append((records, done))
        if queue.flusher is None:
            queue.flusher = loop.create_task(self._flush(queue))
        await done

    async def _flush(self, queue: _Queue[Record]) -> None:
        try:
            while queue.waiting:
                batch = self._take(queue)
                try:
                    await self._run([r for records, _ in batch for r in records])
                except Exception:
                    await self._one_by_one(batch)
                    continue
                for _, done in batch:
                    if not done.done():  # a cancelled request: its records are logged all the same
                        done.set_result(None)
        finally:
            queue.flusher = None
            for _, done in queue.waiting:  # only when the loop is being torn down mid-flush
                if not done.done():
                    done.cancel()
            queue.waiting.clear()

    def _take(self, queue: _Queue[Record]) -> list[tuple[Sequence[Record], asyncio.Future[None]]]:
        batch: list[tuple[Sequence[Record], asyncio.Future[None]]] = []
        count = 0
        while queue.waiting and (not batch or count + len(queue.waiting[0][0]) <= self._max_batch):
            item = queue.waiting.popleft()
            batch.append(item)
            count += len(item[0])
        return batch

    async def _run(self, records: Sequence[Record]) -> None:
        if self._inline:
            self._commit(records)
        else:
            await asyncio.get_running_loop().run_in_executor(self._executor, self._commit, records)

    async def _one_by_one(self, batch: list[tuple[Sequence[Record], asyncio.Future[None]]]) -> None:
        for records, done in batch:
            try:
                await self._run(records)
            except Exception as exc:
                if not done.done():
                    done.set_exception(exc)
            else:
                if not done.done():
                    done.set_result(None)

    def close(self) -> None:
        self._executor.shutdown(wait=True)
