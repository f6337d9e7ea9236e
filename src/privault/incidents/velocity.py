"""The velocity detector: one principal reading more *distinct* customers than its
role's baseline within a short window (default 300 in 60 s).

Counting happens inline and costs one multi-row ``INSERT ... ON CONFLICT DO NOTHING``
per audit batch: ``VelocityCounter`` is the audit log's batch observer, so the rows
(principal, time slot, customer) commit in the same transaction as the decision entries
that name them -- every worker, on SQLite or PostgreSQL, counts into the same table, and
a read whose entry did not commit is not counted.  The window is cut into ``SLICES``
slots; a burst is any ``SLICES`` consecutive slots, so 300 reads in 0.6 s are seen
whether or not they straddle a slot boundary.

Raising happens off the request path: ``detect_velocity`` (part of ``privault incident
check`` and of the API's check) groups the rows, opens at most one incident per
principal per window (the occurrence names the burst's last slot; the next burst ends a
whole window later) and prunes rows older than a day.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import Connection, Engine, delete, func, insert, select
from sqlalchemy.exc import SQLAlchemyError

from privault.audit import AuditEntry, Kind, Outcome
from privault.audit.chain import Executor
from privault.errors import N_, StoreError
from privault.incidents.schemas import IncidentView
from privault.incidents.service import IncidentService
from privault.incidents.workflow import SOURCE_LABELS, Severity, Source
from privault.policy import Policy
from privault.settings import Settings
from privault.store.tables import VELOCITY

SLICES: Final[int] = 6
KEEP: Final = timedelta(days=1)
COUNTED: Final[frozenset[Outcome]] = frozenset({Outcome.ALLOWED, Outcome.PARTIAL})
READ_ACTIONS: Final[frozenset[str]] = frozenset({"read", "lookup"})
# Keys this process wrote in the current slot: a customer read again adds no statement.
MEMORY: Final[int] = 100_000

VELOCITY_DESCRIPTION: Final = (
    "Principal %(principal)s read %(customers)s distinct customers within %(seconds)s "
    "seconds (from %(start)s); the baseline of its role is %(threshold)s."
)


def slot_of(at: datetime, window_seconds: int) -> int:
    """The slot (``window / SLICES`` seconds long) an instant falls in."""
    return int(at.timestamp() * SLICES // window_seconds)


class VelocityCounter:
    """The ``AuditLog`` batch observer that records who read which customer when."""

    def __init__(self, window_seconds: int) -> None:
        self.window_seconds = window_seconds
        self._lock = threading.Lock()
        self._slot = -1
        self._written: set[tuple[str, str]] = set()
        self._statements: dict[str, Any] = {}

    def _insert(self, dialect: str) -> Any:
        statement = self._statements.get(dialect)
        if statement is None:
            if dialect == "postgresql":
                from sqlalchemy.dialects.postgresql import insert as pg_insert

                statement = pg_insert(VELOCITY).on_conflict_do_nothing()
            elif dialect == "sqlite":
                from sqlalchemy.dialects.sqlite import insert as sqlite_insert

                statement = sqlite_insert(VELOCITY).on_conflict_do_nothing()
            else:  # pragma: no cover - the store supports these two
                statement = insert(VELOCITY)
            self._statements[dialect] = statement
        return statement

    def __call__(self, executor: Executor, entries: Sequence[AuditEntry]) -> None:
        rows: dict[tuple[str, int, str], None] = {}
        for entry in entries:
            if (
                entry.kind is not Kind.DECISION
                or not entry.subjects
                or entry.outcome not in COUNTED
                or entry.action not in READ_ACTIONS
            ):
                continue
            slot = slot_of(entry.at, self.window_seconds)
            for subject in entry.subjects:
                rows[(entry.principal, slot, subject)] = None
        if not rows:
            return
        with self._lock:
            fresh = []
            for principal, slot, customer in rows:
                if slot > self._slot:
                    self._slot, self._written = slot, set()
                if slot == self._slot:
                    if (principal, customer) in self._written:
                        continue
                    if len(self._written) < MEMORY:
                        self._written.add((principal, customer))
                fresh.append({"principal": principal, "slot": slot, "customer": customer})
        if fresh:
            if isinstance(executor, Connection):
                dialect = executor.dialect.name
            else:
                dialect = executor.get_bind().dialect.name
            executor.execute(self._insert(dialect), fresh)

    def forget(self) -> None:
        """Drop what this process remembers (a transaction that failed may have lost
        rows it had noted)."""
        with self._lock:
            self._slot, self._written = -1, set()


# -- raising --------------------------------------------------------------------------


def baseline(settings: Settings, policy: Policy, principal: str) -> int:
    """The most distinct customers ``principal`` may read in a window: the largest
    baseline among its roles (the setting's default for a role not listed)."""
    default = settings.incident_velocity_customers
    spec = policy.principals.get(principal)
    if spec is None or not spec.roles:
        return default
    per_role = settings.incident_velocity_role_customers
    return max(per_role.get(role, default) for role in spec.roles)


def _slot_counts(engine: Engine, since: int) -> dict[str, list[tuple[int, int]]]:
    found: dict[str, list[tuple[int, int]]] = defaultdict(list)
    with engine.connect() as connection:
        rows = connection.execute(
            select(VELOCITY.c.principal, VELOCITY.c.slot, func.count())
            .where(VELOCITY.c.slot >= since)
            .group_by(VELOCITY.c.principal, VELOCITY.c.slot)
            .order_by(VELOCITY.c.principal, VELOCITY.c.slot)
        ).all()
    for principal, slot, count in rows:
        found[principal].append((int(slot), int(count)))
    return found


def _distinct(engine: Engine, principal: str, first: int, last: int) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(
                select(func.count(func.distinct(VELOCITY.c.customer))).where(
                    VELOCITY.c.principal == principal,
                    VELOCITY.c.slot >= first,
                    VELOCITY.c.slot <= last,
                )
            ).scalar_one()
        )


def bursts(
    engine: Engine, principal: str, slots: Sequence[tuple[int, int]], threshold: int
) -> list[tuple[int, int, int]]:
    """(first slot, last slot, distinct customers) of each burst over ``threshold``,
    oldest first; one burst per window: the next ends a whole window after the last
    ended, and counts only what came after it."""
    counts = dict(slots)
    found: list[tuple[int, int, int]] = []
    done = -1
    for last, _ in slots:
        if done >= 0 and last < done + SLICES:
            continue  # still the window of the burst found last
        first = max(last - SLICES + 1, done + 1)
        upper = sum(counts.get(s, 0) for s in range(first, last + 1))
        if upper < threshold:  # rows per slot are distinct: an upper bound
            continue
        distinct = _distinct(engine, principal, first, last)
        if distinct >= threshold:
            found.append((first, last, distinct))
            done = last
    return found


def detect_velocity(
    service: IncidentService, policy: Policy | None = None
) -> list[tuple[IncidentView, bool]]:
    settings = service.settings
    window = settings.incident_velocity_window_seconds
    now = service.clock.now()
    policy = policy if policy is not None else service.policy()
    raised = []
    try:
        counts = _slot_counts(service.engine, slot_of(now - KEEP, window))
        for principal, slots in sorted(counts.items()):
            threshold = baseline(settings, policy, principal)
            for first, last, distinct in bursts(service.engine, principal, slots, threshold):
                start = datetime.fromtimestamp(first * window / SLICES, tz=now.tzinfo)
                result = service.raise_detected(
                    source=Source.VELOCITY,
                    dedup_key=f"velocity:{principal}",
                    title=SOURCE_LABELS[Source.VELOCITY],
                    description=VELOCITY_DESCRIPTION
                    % {
                        "principal": principal,
                        "customers": distinct,
                        "seconds": window,
                        "start": start.isoformat(timespec="seconds"),
                        "threshold": threshold,
                    },
                    severity=Severity.HIGH,
                    estimated_customers=distinct,
                    occurrence=f"velocity:{principal}:{last}",
                    data={
                        "principal": principal,
                        "customers": distinct,
                        "window_seconds": window,
                        "threshold": threshold,
                    },
                )
                if result is not None:
                    raised.append(result)
        with service.engine.begin() as connection:
            connection.execute(
                delete(VELOCITY).where(VELOCITY.c.slot < slot_of(now - KEEP, window))
            )
    except SQLAlchemyError as exc:
        raise StoreError(N_("The audit trail could not be read.")) from exc
    return raised
