"""Group commit: concurrent callers share one audit transaction, none returns early.

Under load (many API threads each recording one decision) a transaction per entry makes
the chain head a queue of commits.  Here the first caller to arrive becomes the leader:
it appends everything waiting, in one transaction, and wakes each caller with its own
chained entry.  Every caller still returns only after its entry is committed, and if
the commit fails every caller of that batch gets ``AuditUnavailable`` -- fail closed,
exactly as with one transaction each.  No background thread: a batch is driven by a
caller that is waiting anyway.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final

from privault.audit.chain import ChainedEntry
from privault.audit.entry import AuditEntry
from privault.errors import AuditUnavailable

MAX_BATCH: Final[int] = 256


@dataclass
class _Waiter:
    entry: AuditEntry
    done: threading.Event = field(default_factory=threading.Event)
    result: ChainedEntry | None = None
    failure: BaseException | None = None


class GroupCommitter:
    def __init__(self, record_many: Callable[[Sequence[AuditEntry]], list[ChainedEntry]]) -> None:
        self._record_many = record_many
        self._lock = threading.Lock()
        self._queue: list[_Waiter] = []
        self._leading = False

    def record(self, entry: AuditEntry) -> ChainedEntry:
        waiter = _Waiter(entry)
        with self._lock:
            self._queue.append(waiter)
            lead = not self._leading
            self._leading = True
        if lead:
            self._drain()
        waiter.done.wait()
        if waiter.failure is not None:
            raise AuditUnavailable() from waiter.failure
        assert waiter.result is not None
        return waiter.result

    def _drain(self) -> None:
        while True:
            with self._lock:
                batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
                if not batch:
                    self._leading = False
                    return
            try:
                results = self._record_many([w.entry for w in batch])
            except BaseException as exc:
                for waiter in batch:
                    waiter.failure = exc
                    waiter.done.set()
                continue
            for waiter, result in zip(batch, results, strict=True):
                waiter.result = result
                waiter.done.set()
