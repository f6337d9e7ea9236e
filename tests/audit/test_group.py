"""Group commit: many threads, one valid chain, each caller gets its own entry; a failed
batch fails every caller in it."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import pytest

from privault.audit import AuditEntry, AuditLog
from privault.audit.chain import ChainedEntry
from privault.audit.group import GroupCommitter, LoopGroup
from privault.errors import AuditUnavailable
from tests.audit.conftest import make_entry


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
