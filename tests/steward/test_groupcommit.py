"""Group commit: concurrent requests share transactions, and fail only for their own records."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest

from enarx.steward.groupcommit import GroupCommit


class Ledger:
    """A commit function that keeps each transaction's records, refusing the ones named bad."""

    def __init__(self, bad: frozenset[int] = frozenset(), *, gate: threading.Event | None = None) -> None:
        self.transactions: list[list[int]] = []
        self.bad = bad
        self.gate = gate

    def __call__(self, records: Sequence[int]) -> None:
        if self.gate is not None:
            self.gate.wait(5)  # the first transaction is slow: everyone else queues behind it
        if self.bad.intersection(records):
            raise RuntimeError(f"refused {sorted(self.bad.intersection(records))}")
        self.transactions.append(list(records))


def test_requests_that_arrive_during_a_commit_share_the_next_one() -> None:
    gate = threading.Event()
    ledger = Ledger(gate=gate)
    committer = GroupCommit(ledger)

    async def scenario() -> None:
        first = asyncio.create_task(committer.commit([0]))
        await asyncio.sleep(0.05)  # the first transaction is now running in the writer thread
        rest = [asyncio.create_task(committer.commit([n])) for n in range(1, 21)]
        await asyncio.sleep(0.05)
        gate.set()
        await asyncio.gather(first, *rest)

    try:
        asyncio.run(scenario())
    finally:
        committer.close()
    assert ledger.transactions[0] == [0]
    assert sorted(n for t in ledger.transactions for n in t) == list(range(21))
    assert len(ledger.transactions) == 2  # twenty requests, one transaction


def test_a_failing_record_fails_only_its_own_request() -> None:
    ledger = Ledger(bad=frozenset({3}))
    committer = GroupCommit(ledger)

    async def scenario() -> list[object]:
        return await asyncio.gather(*(committer.commit([n, n + 100]) for n in range(6)), return_exceptions=True)

    try:
        results = asyncio.run(scenario())
    finally:
        committer.close()
    assert [r is None for r in results] == [True, True, True, False, True, True]
    assert isinstance(results[3], RuntimeError)
    committed = sorted(n for t in ledger.transactions for n in t)
    assert committed == sorted([n for n in range(6) if n != 3] + [n + 100 for n in range(6) if n != 3])


def test_batches_are_bounded() -> None:
    gate = threading.Event()
    ledger = Ledger(gate=gate)
    committer = GroupCommit(ledger, max_batch=4)

    async def scenario() -> None:
        first = asyncio.create_task(committer.commit([-1]))
        await asyncio.sleep(0.05)
        rest = [asyncio.create_task(committer.commit([n, n])) for n in range(5)]
        await asyncio.sleep(0.01)
        gate.set()
        await asyncio.gather(first, *rest)

    try:
        asyncio.run(scenario())
    finally:
        committer.close()
    assert [len(t) for t in ledger.transactions] == [1, 4, 4, 2]


def test_the_committer_serves_one_loop_after_another() -> None:
    ledger = Ledger()
    committer = GroupCommit(ledger)
    try:
        for n in range(3):
            asyncio.run(committer.commit([n]))
    finally:
        committer.close()
    assert ledger.transactions == [[0], [1], [2]]


def test_an_error_reaches_the_caller() -> None:
    committer = GroupCommit(Ledger(bad=frozenset({7})))
    try:
        with pytest.raises(RuntimeError, match="refused"):
            asyncio.run(committer.commit([7]))
    finally:
        committer.close()


def test_inline_commits_run_on_the_loop_and_still_batch() -> None:
    threads: list[int] = []
    ledger = Ledger(bad=frozenset({5}))

    def commit(records: Sequence[int]) -> None:
        threads.append(threading.get_ident())
        ledger(records)

    committer = GroupCommit(commit, inline=True)

    async def scenario() -> list[object]:
        # Ten requests become ready in one loop iteration, as requests whose CSRs were
        # verified back to back do: one transaction (and the retry that isolates 5).
        return await asyncio.gather(*(committer.commit([n]) for n in range(10)), return_exceptions=True)

    try:
        results = asyncio.run(scenario())
    finally:
        committer.close()
    assert set(threads) == {threading.get_ident()}
    assert [r is None for r in results] == [n != 5 for n in range(10)]
    assert sorted(n for t in ledger.transactions for n in t) == [n for n in range(10) if n != 5]
    assert len(threads) == 1 + 10  # the batch that failed, then each request alone


def test_only_sqlite_normal_is_a_commit_that_does_not_wait(tmp_path: Path) -> None:
    from enarx.steward.log import IssuanceLog

    normal = IssuanceLog(str(tmp_path / "normal.db"), sqlite_synchronous="NORMAL")
    full = IssuanceLog(str(tmp_path / "full.db"))
    try:
        assert normal.commit_waits is False and full.commit_waits is True
    finally:
        normal.close()
        full.close()
