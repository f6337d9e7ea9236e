"""One customer's consent: the facts the access gate decides with, and the proof.

``customer_consent_state`` is on every gated single-customer read, so it is one
driver-level statement (``store.driver``); ``proof`` is the full history, with the
notice version and text each decision was made under (Art. 7(1)).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Integer,
    bindparam,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy.sql.elements import BindParameter

from privault.clock import Clock
from privault.consent.filters import EVENTS, NOTICES, OBJECTIONS, RESTRICTIONS, STATES
from privault.consent.notices import notice_of
from privault.consent.schemas import (
    ConsentDecision,
    ConsentFacts,
    LedgerEntry,
    ObjectionView,
    Proof,
    RestrictionView,
)
from privault.customers.service import CustomerRef, resolve_customer
from privault.store import driver
from privault.store.db import reads

# One customer's consent facts, read on every gated single-customer read: decisions,
# objections and restrictions in one statement (one round trip to PostgreSQL, one
# statement for SQLite), each row tagged with its kind and laid out as
#   kind, text x 4, timestamp x 2, integer x 2
# (NULL where a kind has no such column).
_CUSTOMER: BindParameter[str] = bindparam("customer_id")
_DECISION, _OBJECTION, _RESTRICTION = 0, 1, 2


def _kind(kind: int) -> ColumnElement[int]:
    return literal_column(str(kind), Integer).label("kind")


_FACTS_OF = driver.Statement(
    union_all(
        select(
            _kind(_DECISION),
            STATES.c.purpose,
            STATES.c.recipient,
            STATES.c.status,
            null(),
            STATES.c.decided_at,
            STATES.c.expires_at,
            STATES.c.notice_id,
            STATES.c.event_id,
        ).where(STATES.c.customer_id == _CUSTOMER),
        select(
            _kind(_OBJECTION),
            OBJECTIONS.c.purpose,
            OBJECTIONS.c.channel,
            OBJECTIONS.c.actor,
            OBJECTIONS.c.reason,
            OBJECTIONS.c.recorded_at,
            OBJECTIONS.c.lifted_at,
            OBJECTIONS.c.id,
            null(),
        ).where(OBJECTIONS.c.customer_id == _CUSTOMER),
        select(
            _kind(_RESTRICTION),
            null(),
            RESTRICTIONS.c.channel,
            RESTRICTIONS.c.actor,
            RESTRICTIONS.c.reason,
            RESTRICTIONS.c.recorded_at,
            RESTRICTIONS.c.lifted_at,
            RESTRICTIONS.c.id,
            null(),
        ).where(RESTRICTIONS.c.customer_id == _CUSTOMER),
    )
)


def objection_of(row: Any) -> ObjectionView:
    return ObjectionView(
        row.id, row.purpose, row.channel, row.actor, row.reason, row.recorded_at, row.lifted_at
    )


def restriction_of(row: Any) -> RestrictionView:
    return RestrictionView(
        row.id, row.channel, row.actor, row.reason, row.recorded_at, row.lifted_at
    )


class CustomerFacts:
    """Reads of one customer's consent; nothing here writes."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock

    def customer_consent_state(
        self,
        customer: str | CustomerRef,
        at: datetime | None = None,
        *,
        connection: Connection | None = None,
    ) -> ConsentFacts:
        """The pure facts for one customer; ``facts.allows(purpose, recipient)`` decides.

        ``customer`` is an internal id, or a ``CustomerRef`` the caller already resolved
        (the access gate's read path, which also lends its ``connection``).  One
        driver-level statement of three indexed reads (``store.driver``): this is on
        every gated read.
        """
        at = at or self.clock.now()
        if connection is None:
            with reads(self.engine) as own:
                return self.customer_consent_state(customer, at, connection=own)
        ref = (
            customer
            if isinstance(customer, CustomerRef)
            else resolve_customer(connection, customer)
        )
        decisions: list[ConsentDecision] = []
        objections: list[ObjectionView] = []
        restrictions: list[RestrictionView] = []
        for kind, t1, t2, t3, t4, at1, at2, n1, n2 in _FACTS_OF.rows(
            connection, customer_id=ref.id
        ):
            recorded = driver.utc(at1)
            if recorded is None:
                continue
            if kind == _DECISION:  # purpose, recipient, status; decided, expires; notice, event
                decisions.append(
                    ConsentDecision(t1, t2 or None, t3, recorded, driver.utc(at2), n1, n2)
                )
            elif recorded > at:  # objections and restrictions recorded after ``at``
                continue
            elif kind == _OBJECTION:  # purpose, channel, actor, reason; recorded, lifted; id
                objections.append(ObjectionView(n1, t1, t2, t3, t4, recorded, driver.utc(at2)))
            else:  # channel, actor, reason; recorded, lifted; id
                restrictions.append(RestrictionView(n1, t2, t3, t4, recorded, driver.utc(at2)))
        return ConsentFacts(
            customer_id=ref.id,
            public_id=ref.public_id,
            language=ref.language,
            at=at,
            decisions=tuple(sorted(decisions, key=lambda d: (d.purpose, d.recipient or ""))),
            objections=tuple(sorted(objections, key=lambda o: o.id)),
            restrictions=tuple(sorted(restrictions, key=lambda r: r.id)),
        )

    def proof(self, customer_id: str) -> Proof:
        """Art. 7(1): every event for the customer with the notice version and text shown."""
        facts = self.customer_consent_state(customer_id)
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(EVENTS).where(EVENTS.c.customer_id == customer_id).order_by(EVENTS.c.id)
            ).all()
            notice_ids = {r.notice_id for r in rows if r.notice_id is not None}
            notices = (
                {
                    n.id: notice_of(n)
                    for n in connection.execute(select(NOTICES).where(NOTICES.c.id.in_(notice_ids)))
                }
                if notice_ids
                else {}
            )
            objections = connection.execute(
                select(OBJECTIONS)
                .where(OBJECTIONS.c.customer_id == customer_id)
                .order_by(OBJECTIONS.c.id)
            ).all()
            restrictions = connection.execute(
                select(RESTRICTIONS)
                .where(RESTRICTIONS.c.customer_id == customer_id)
                .order_by(RESTRICTIONS.c.id)
            ).all()
        events = tuple(
            LedgerEntry(
                event_id=r.id,
                action=r.action,
                purpose=r.purpose,
                recipient=r.recipient or None,
                channel=r.channel,
                occurred_at=r.occurred_at,
                recorded_at=r.recorded_at,
                actor=r.actor,
                evidence_hash=r.evidence_hash,
                notice=notices.get(r.notice_id) if r.notice_id is not None else None,
            )
            for r in rows
        )
        return Proof(
            facts.customer_id,
            facts.public_id,
            facts.language,
            events,
            tuple(objection_of(o) for o in objections),
            tuple(restriction_of(r) for r in restrictions),
        )
