"""Group commit: many threads, one valid chain, each caller gets its own entry; a failed
batch fails every caller in it."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import pytest

from privault.audit import AuditEntry, AuditLog
from privault.audit.chain import ChainedEntry
from privault.audit.group import GroupCommitter
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
