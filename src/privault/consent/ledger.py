"""The ledger: grants and withdrawals appended (never changed), with the derived state
kept in the same transaction; objections (Art. 21) and restrictions (Art. 18).

Writers serialise per customer (``lock_customer``) and read the clock only once they
hold it, so the last committed event is the latest; see ``privault.consent.service``
for the semantics the access gate relies on.
"""

from __future__ import annotations

import calendar
import hashlib
import json
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, and_, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from privault.catalog.taxonomy import Taxonomy
from privault.clock import Clock
from privault.consent.facts import objection_of, restriction_of
from privault.consent.filters import (
    CUSTOMERS,
    EVENTS,
    OBJECTIONS,
    RESTRICTIONS,
    STATES,
    selection_columns,
)
from privault.consent.notices import Notices
from privault.consent.schemas import (
    ACTIONS,
    Action,
    LedgerEntry,
    Notice,
    ObjectionView,
    RestrictionView,
)
from privault.consent.trail import ConsentTrail
from privault.consent.validation import check_actor, check_channel, check_purpose
from privault.errors import N_, Conflict, InvalidInput, NotFound
from privault.store.db import session_scope
from privault.text import free_text


def add_months(when: datetime, months: int) -> datetime:
    """``when`` plus calendar months, the day clamped to the month's end (31 Jan + 1 -> 28 Feb)."""
    index = when.month - 1 + months
    year, month = when.year + index // 12, index % 12 + 1
    day = min(when.day, calendar.monthrange(year, month)[1])
    return when.replace(year=year, month=month, day=day)


def evidence_digest(evidence: bytes | str | None, fallback: dict[str, Any]) -> str:
    """SHA-256 (hex) of the evidence, or of the event's own fields when there is none.

    Only the hash is stored: evidence such as a form submission or a call note may hold
    personal data, which the ledger must not.
    """
    if evidence is None:
        evidence = json.dumps(fallback, sort_keys=True, default=str)
    if isinstance(evidence, str):
        evidence = evidence.encode("utf-8")
    return hashlib.sha256(evidence).hexdigest()


def _rowcount(result: object) -> int:
    return int(cast(CursorResult[Any], result).rowcount)


def lock_customer(session: Session, customer_id: str) -> None:
    """Serialise writers per customer.  On PostgreSQL a row lock; on SQLite the first
    statement is a write, which takes the database write lock (waiting up to the
    busy timeout) before anything is read, so no snapshot can go stale."""
    if session.get_bind().dialect.name == "postgresql":
        found = session.execute(
            select(CUSTOMERS.c.id).where(CUSTOMERS.c.id == customer_id).with_for_update()
        ).first()
        missing = found is None
    else:
        result = session.execute(
            update(CUSTOMERS).where(CUSTOMERS.c.id == customer_id).values(id=CUSTOMERS.c.id)
        )
        missing = _rowcount(result) == 0
    if missing:
        raise NotFound(N_("No customer with that id."))


def _current_notice(session: Session, customer_id: str, purpose: str, recipient: str) -> int | None:
    return session.execute(
        select(STATES.c.notice_id).where(
            STATES.c.customer_id == customer_id,
            STATES.c.purpose == purpose,
            STATES.c.recipient == recipient,
        )
    ).scalar_one_or_none()


def _apply(
    session: Session,
    customer_id: str,
    purpose: str,
    recipient: str,
    action: Action,
    event_id: int,
    notice_id: int | None,
    when: datetime,
    expires_at: datetime | None,
) -> None:
    """Upsert the state row unless it already holds a later event."""
    dialect = session.get_bind().dialect.name
    values = {
        "customer_id": customer_id,
        "purpose": purpose,
        "recipient": recipient,
        "status": action,
        "event_id": event_id,
        "notice_id": notice_id,
        "decided_at": when,
        "expires_at": expires_at,
    }
    stmt = postgresql.insert(STATES) if dialect == "postgresql" else sqlite.insert(STATES)
    stmt = stmt.values(**values)
    excluded = stmt.excluded
    newer = or_(
        excluded.decided_at > STATES.c.decided_at,
        and_(excluded.decided_at == STATES.c.decided_at, excluded.event_id > STATES.c.event_id),
    )
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=[STATES.c.customer_id, STATES.c.purpose, STATES.c.recipient],
            set_={
                k: excluded[k]
                for k in ("status", "event_id", "notice_id", "decided_at", "expires_at")
            },
            where=newer,
        )
    )
    _derive_selection(session, customer_id, recipient)


def _derive_selection(session: Session, customer_id: str, recipient: str) -> None:
    """Bring ``below`` and ``below_expiry`` of the customer's decisions with
    ``recipient`` up to date (same transaction; the caller holds the customer)."""
    rows = session.execute(
        select(
            STATES.c.purpose,
            STATES.c.status,
            STATES.c.expires_at,
            STATES.c.below,
            STATES.c.below_expiry,
        ).where(STATES.c.customer_id == customer_id, STATES.c.recipient == recipient)
    ).all()
    if len(rows) < 2 and all(r.below == "" for r in rows):
        return  # one decision: nothing below it
    derived = selection_columns({r.purpose: (r.status, r.expires_at) for r in rows})
    for row in rows:
        below, expiry = derived[row.purpose]
        if (row.below, row.below_expiry) != (below, expiry):
            session.execute(
                update(STATES)
                .where(
                    STATES.c.customer_id == customer_id,
                    STATES.c.purpose == row.purpose,
                    STATES.c.recipient == recipient,
                )
                .values(below=below, below_expiry=expiry)
            )


class Ledger:
    """Every change to a customer's consent, objections and restrictions, audited."""

    def __init__(
        self,
        engine: Engine,
        taxonomy: Taxonomy,
        clock: Clock,
        trail: ConsentTrail,
        notices: Notices,
    ) -> None:
        self.engine = engine
        self.taxonomy = taxonomy
        self.clock = clock
        self.trail = trail
        self.notices = notices

    # -- grants and withdrawals --------------------------------------------------------

    def record(
        self,
        customer_id: str,
        purpose: str,
        action: Action,
        *,
        notice: Notice | None,
        channel: str,
        actor: str,
        recipient: str | None = None,
        evidence: bytes | str | None = None,
        occurred_at: datetime | None = None,
    ) -> LedgerEntry:
        """Append a grant or withdrawal and bring the derived state up to date, atomically.

        A grant needs the notice the customer saw, which must cover the purpose and name
        the same recipient; a withdrawal may omit it (the notice of the current grant is
        recorded then).  ``occurred_at`` (default now) must not lie in the future.
        """
        if action not in ACTIONS:
            raise InvalidInput(
                N_("Unknown action '%(action)s'; use grant or withdraw."), action=action
            )
        wanted = check_purpose(self.taxonomy, purpose, recipient)
        channel = check_channel(channel)
        actor = check_actor(actor)
        if occurred_at is not None:
            if occurred_at.tzinfo is None:
                raise InvalidInput(N_("Times must carry a time zone."))
            if occurred_at > self.clock.now():
                raise InvalidInput(N_("A consent decision cannot be dated in the future."))
        if action == "grant" and notice is None:
            raise InvalidInput(N_("A grant needs the notice the customer was shown."))
        if notice is not None:
            if not notice.covers(purpose):
                raise InvalidInput(
                    N_("Notice '%(key)s' v%(version)s does not cover '%(purpose)s'."),
                    key=notice.key,
                    version=notice.version,
                    purpose=purpose,
                )
            if notice.recipient != wanted:
                raise InvalidInput(
                    N_("Notice '%(key)s' v%(version)s is for another recipient."),
                    key=notice.key,
                    version=notice.version,
                )
        with session_scope(self.engine) as session:
            lock_customer(session, customer_id)
            # Read the clock only once this writer holds the customer: events then
            # carry times in commit order, and the last committed one is the latest.
            now = self.clock.now()
            when = occurred_at or now
            expires_at = (
                add_months(when, notice.expiry_months)
                if action == "grant" and notice is not None and notice.expiry_months
                else None
            )
            notice_id = (
                notice.id
                if notice is not None
                else _current_notice(session, customer_id, purpose, wanted or "")
            )
            digest = evidence_digest(
                evidence,
                {
                    "customer": customer_id,
                    "purpose": purpose,
                    "recipient": wanted,
                    "action": action,
                    "notice": notice_id,
                    "channel": channel,
                    "at": when.isoformat(),
                    "actor": actor,
                },
            )
            event_id = session.execute(
                insert(EVENTS)
                .values(
                    customer_id=customer_id,
                    purpose=purpose,
                    recipient=wanted or "",
                    action=action,
                    notice_id=notice_id,
                    channel=channel,
                    occurred_at=when,
                    recorded_at=now,
                    actor=actor,
                    evidence_hash=digest,
                )
                .returning(EVENTS.c.id)
            ).scalar_one()
            _apply(
                session,
                customer_id,
                purpose,
                wanted or "",
                action,
                event_id,
                notice_id,
                when,
                expires_at,
            )
            self.trail.record(
                session,
                action,
                actor,
                customer_id=customer_id,
                purpose=purpose,
                recipient=wanted,
                channel=channel,
            )
        return LedgerEntry(
            event_id=event_id,
            action=action,
            purpose=purpose,
            recipient=wanted,
            channel=channel,
            occurred_at=when,
            recorded_at=now,
            actor=actor,
            evidence_hash=digest,
            notice=notice
            if notice is not None
            else (self.notices.notice_by_id(notice_id) if notice_id is not None else None),
        )

    # -- objections and restrictions ---------------------------------------------------

    def object(
        self, customer_id: str, purpose: str, *, channel: str, actor: str, reason: str = ""
    ) -> ObjectionView:
        """Art. 21: record an objection to ``purpose`` (covers its descendants)."""
        self.taxonomy.require_use(purpose)
        channel = check_channel(channel)
        actor = check_actor(actor)
        now = self.clock.now()
        with session_scope(self.engine) as session:
            lock_customer(session, customer_id)
            existing = session.execute(
                select(OBJECTIONS).where(
                    OBJECTIONS.c.customer_id == customer_id,
                    OBJECTIONS.c.purpose == purpose,
                    OBJECTIONS.c.lifted_at.is_(None),
                )
            ).first()
            if existing is not None:
                return objection_of(existing)
            row = session.execute(
                insert(OBJECTIONS)
                .values(
                    customer_id=customer_id,
                    purpose=purpose,
                    channel=channel,
                    actor=actor,
                    reason=free_text(reason),
                    recorded_at=now,
                )
                .returning(*OBJECTIONS.c)
            ).one()
            self.trail.record(
                session, "object", actor, customer_id=customer_id, purpose=purpose, channel=channel
            )
        return objection_of(row)

    def lift_objection(self, customer_id: str, purpose: str, *, actor: str) -> int:
        """End the customer's live objections to exactly ``purpose``; how many ended."""
        actor = check_actor(actor)
        with session_scope(self.engine) as session:
            lock_customer(session, customer_id)
            result = session.execute(
                update(OBJECTIONS)
                .where(
                    OBJECTIONS.c.customer_id == customer_id,
                    OBJECTIONS.c.purpose == purpose,
                    OBJECTIONS.c.lifted_at.is_(None),
                )
                .values(lifted_at=self.clock.now(), lifted_by=actor)
            )
            if _rowcount(result):
                self.trail.record(
                    session, "lift_objection", actor, customer_id=customer_id, purpose=purpose
                )
        return int(_rowcount(result))

    def restrict(
        self, customer_id: str, *, channel: str, actor: str, reason: str = ""
    ) -> RestrictionView:
        """Art. 18: from now on the customer's data is only stored (idempotent)."""
        channel = check_channel(channel)
        actor = check_actor(actor)
        with session_scope(self.engine) as session:
            lock_customer(session, customer_id)
            existing = session.execute(
                select(RESTRICTIONS).where(
                    RESTRICTIONS.c.customer_id == customer_id, RESTRICTIONS.c.lifted_at.is_(None)
                )
            ).first()
            if existing is not None:
                return restriction_of(existing)
            row = session.execute(
                insert(RESTRICTIONS)
                .values(
                    customer_id=customer_id,
                    channel=channel,
                    actor=actor,
                    reason=free_text(reason),
                    recorded_at=self.clock.now(),
                )
                .returning(*RESTRICTIONS.c)
            ).one()
            self.trail.record(session, "restrict", actor, customer_id=customer_id, channel=channel)
        return restriction_of(row)

    def lift_restriction(self, customer_id: str, *, actor: str) -> int:
        actor = check_actor(actor)
        with session_scope(self.engine) as session:
            lock_customer(session, customer_id)
            result = session.execute(
                update(RESTRICTIONS)
                .where(
                    RESTRICTIONS.c.customer_id == customer_id, RESTRICTIONS.c.lifted_at.is_(None)
                )
                .values(lifted_at=self.clock.now(), lifted_by=actor)
            )
            if _rowcount(result):
                self.trail.record(session, "lift_restriction", actor, customer_id=customer_id)
        if _rowcount(result) == 0:
            raise Conflict(N_("This customer's processing is not restricted."))
        return int(_rowcount(result))
