"""Group commit: many threads, one valid chain, each caller gets its own entry; a failed
batch fails every caller in it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import pytest

from privault.audit import AuditEntry, AuditLog
from privault.audit.chain import ChainedEntry
from privault.audit.group import GroupCommitter, LoopGroup
from privault.errors import AuditUnavailable
from tests.audit.conftest import make_entry
from tests.conftest import wait_until


def test_concurrent_callers_share_transactions_and_the_chain_verifies(log: AuditLog) -> None:
    entries = [make_entry(i) for i in range(400)]
    with ThreadPoolExecutor(16) as pool:
        chained = list(pool.map(log.record_grouped, entries))
    assert sorted(c.seq for c in chained) == list(range(1, 401))
    assert all(c.entry == e for c, e in zip(chained, entries, strict=True))
    report = log.verify()
    assert report.ok and report.entries == 400


def test_a_failed_batch_fails_every_caller() -> None:
    calls: list[int] = []

    def broken(entries: Sequence[AuditEntry]) -> list[ChainedEntry]:
        calls.append(len(entries))
        raise RuntimeError("disk gone")

    committer = GroupCommitter(broken)

    def attempt(i: int) -> str:
        with pytest.raises(AuditUnavailable):
            committer.record(make_entry(i))
        return "refused"

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(attempt, range(40))) == ["refused"] * 40
    assert sum(calls) == 40


def test_a_leader_returns_once_its_own_entry_is_committed(log: AuditLog) -> None:
    """Under steady load the queue never runs dry: the leader hands over to a waiting
    caller rather than committing for everyone who arrives meanwhile."""
    first_batch_may_commit = threading.Event()
    second_batch_may_commit = threading.Event()
    batches: list[int] = []

    def gated(entries: Sequence[AuditEntry]) -> list[ChainedEntry]:
        batches.append(len(entries))
        (first_batch_may_commit if len(batches) == 1 else second_batch_may_commit).wait(10)
        return log.record_many(entries)

    committer = GroupCommitter(gated)
    with ThreadPoolExecutor(4) as pool:
        leader = pool.submit(committer.record, make_entry(0))
        wait_until(lambda: len(batches) == 1)  # the leader is committing its batch
        others = [pool.submit(committer.record, make_entry(i)) for i in (1, 2, 3)]
        wait_until(lambda: len(committer._queue) == 3)  # they queued behind it
        first_batch_may_commit.set()
        assert leader.result(timeout=10).seq == 1  # while the next batch is still open
        assert not any(f.done() for f in others)
        wait_until(lambda: len(batches) == 2)  # a successor leads the next batch
        second_batch_may_commit.set()
        assert sorted(f.result(timeout=10).seq for f in others) == [2, 3, 4]
    assert batches == [1, 3]
    assert log.verify().ok


def test_on_an_event_loop_the_entries_of_one_turn_share_a_transaction(log: AuditLog) -> None:
    batches: list[int] = []

    def counting(entries: Sequence[AuditEntry]) -> list[ChainedEntry]:
        batches.append(len(entries))
        return log.record_many(entries)

    group = LoopGroup(counting)
    entries = [make_entry(i) for i in range(300)]

    async def callers() -> list[ChainedEntry]:
        async def one(entry: AuditEntry) -> ChainedEntry:
            await asyncio.sleep(0)  # all of them reach ``record`` in the same turn
            return await group.record(entry)

        return await asyncio.gather(*(one(e) for e in entries))

    chained = asyncio.run(callers())
    assert [c.seq for c in chained] == list(range(1, 301))
    assert all(c.entry == e for c, e in zip(chained, entries, strict=True))
    assert batches == [256, 44]  # one transaction a turn, at most MAX_BATCH entries
    report = log.verify()
    assert report.ok and report.entries == 300


def test_on_an_event_loop_a_failed_commit_fails_every_caller() -> None:
    def broken(entries: Sequence[AuditEntry]) -> list[ChainedEntry]:
        raise RuntimeError("disk gone")

    group = LoopGroup(broken)

    async def callers() -> list[BaseException | ChainedEntry]:
        return await asyncio.gather(
            *(group.record(make_entry(i)) for i in range(20)), return_exceptions=True
        )

    outcomes = asyncio.run(callers())
    assert all(isinstance(o, AuditUnavailable) for o in outcomes)
