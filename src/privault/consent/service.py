"""The consent ledger and the filters the access gate applies to customers.

Semantics (the policy engine relies on these; ``ConsentFacts.allows`` and the SQL
filters implement the same rules):

* **Consent covers descendants.**  A grant for purpose ``P`` counts for every use ``U``
  with ``covers(P, U)`` (``marketing`` covers ``marketing.communications.email``).
* **The most specific decision wins.**  For a use ``U``, privault looks at ``U`` and its
  ancestors, nearest first (``ancestors(U)``), and the first one with a withdrawal or a
  live grant decides.  So a grant for ``marketing`` with a withdrawal for
  ``marketing.communications.email`` allows SMS but not e-mail marketing, and a
  withdrawal for ``marketing`` with a later grant for e-mail allows e-mail only.
* **Latest event wins per key.**  The derived state per customer x purpose x recipient
  is the event with the greatest ``(occurred_at, id)``; writers serialise per customer
  (row lock on PostgreSQL, the database write lock on SQLite) and read the clock only
  once they hold it, so concurrent grant and withdraw leave the history complete and
  the state equal to the last committed event.  Back-dated events (``occurred_at``,
  e.g. an import of paper forms) slot into that order and never override a later one.
* **Expiry.**  A grant under a notice with ``expiry_months = N`` stops counting N
  calendar months after it was given (``expires_at``, compared with ``at``, which
  defaults to the injected clock).  An expired grant is no decision at all: a broader
  live grant may still apply, and the customer may be asked again.
* **External sharing** is consent to purpose ``third_party_sharing`` (or a descendant)
  *and* a named recipient; it is per customer x recipient and never implied by a grant
  for another recipient or without one.  Other purposes take no recipient.
* **Objection (Art. 21)** to ``P`` excludes the customer from ``P`` and every
  descendant, whatever they consented to, with no balancing test -- an objection to
  ``marketing`` stops all ``marketing.*`` use.  It lasts until lifted.
* **Restriction (Art. 18)** excludes the customer from all processing except storage:
  ``restriction_filter`` takes no purpose.  Callers apply it to every use other than
  keeping the record.
* Consent is needed only where the policy says so (lawful basis consent, or a purpose
  the data was not collected for); these filters do not decide *whether* it is needed.

The filters are SQLAlchemy boolean expressions over ``customers.id`` so that the gate
can put "active consent, no objection, no restriction" into ONE query with its own
conditions: ``select(customers.c.id).where(eligible_filter(P, at=now, bind=engine))``.
``bind`` (an engine, connection, dialect or dialect name) picks the form each database
runs best for the objection and restriction filters: ``NOT IN`` over one ephemeral set
on SQLite, ``NOT EXISTS`` anti-joins on PostgreSQL (never a hashed sub-plan that
depends on ``work_mem``).  For bulk work, ``eligible_ids`` is the same answer as one
SELECT over the consent tables alone (each id once, erased customers left out) -- the
fast path for counting and streaming ids, and what the gate should join when it does
not need other customer conditions.  It reads the selection columns each state row
carries (``below``, ``below_expiry``, ``screened``; see ``privault.consent.filters``),
which ``record`` keeps in the same transaction and triggers keep for objections,
restrictions and erasure.

Customers are excluded per reason by ``ConsentService.count_exclusions``; one
customer's facts, with the same rules in pure Python, come from
``ConsentService.customer_consent_state`` (``ConsentFacts.allows``).
"""

from __future__ import annotations

import calendar
import hashlib
import inspect
import json
import re
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, cast

from sqlalchemy import (
    ColumnElement,
    Connection,
    CursorResult,
    Engine,
    Integer,
    Select,
    and_,
    bindparam,
    func,
    insert,
    literal_column,
    null,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter

from privault.audit import AuditEntry, AuditLog, Kind, Outcome
from privault.catalog.taxonomy import Taxonomy, covers
from privault.clock import Clock
from privault.consent.filters import (
    CUSTOMERS,
    EVENTS,
    NOTICES,
    OBJECTIONS,
    RESTRICTIONS,
    STATES,
    consent_filter,
    dialect_name,
    eligible_filter,
    eligible_ids,
    erased_ids,
    granted_ids,
    objecting_ids,
    objection_filter,
    restricted_ids,
    restriction_filter,
    selection_columns,
    undecided_filter,
    without,
)
from privault.consent.schemas import (
    ACTIONS,
    CHANNELS,
    SHARING,
    Action,
    Channel,
    ConsentDecision,
    ConsentFacts,
    ExclusionCounts,
    LedgerEntry,
    Notice,
    NoticeDraft,
    ObjectionView,
    Proof,
    RestrictionView,
)
from privault.customers.service import CustomerRef, resolve_customer
from privault.errors import N_, Conflict, InvalidInput, NotFound
from privault.store import driver
from privault.store.db import reads, session_scope
from privault.text import free_text

if TYPE_CHECKING:
    from privault.runtime import Vault

ID_BATCH: Final[int] = 10_000
_NOT_IDENT = re.compile(r"[^\w.:@/+-]")

__all__ = ["ConsentService", "add_months"]


def _audit_name(text: str) -> str:
    """People's and partners' names as audit identifiers (no spaces or quotes)."""
    return _NOT_IDENT.sub("-", text).strip("-_.")[:128]


def add_months(when: datetime, months: int) -> datetime:
    """``when`` plus calendar months, the day clamped to the month's end (31 Jan + 1 -> 28 Feb)."""
    index = when.month - 1 + months
    year, month = when.year + index // 12, index % 12 + 1
    day = min(when.day, calendar.monthrange(year, month)[1])
    return when.replace(year=year, month=month, day=day)


def _rowcount(result: object) -> int:
    return int(cast(CursorResult[Any], result).rowcount)


# -- conversions --------------------------------------------------------------------------


def _notice(row: Any) -> Notice:
    return Notice(
        id=row.id,
        key=row.key,
        version=row.version,
        purposes=tuple(row.purposes.split()),
        recipient=row.recipient or None,
        titles={"en": row.title_en, "cs": row.title_cs, "ur": row.title_ur},
        texts={"en": row.text_en, "cs": row.text_cs, "ur": row.text_ur},
        expiry_months=row.expiry_months,
        created_at=row.created_at,
        created_by=row.created_by,
    )


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


def _objection(row: Any) -> ObjectionView:
    return ObjectionView(
        row.id, row.purpose, row.channel, row.actor, row.reason, row.recorded_at, row.lifted_at
    )


def _restriction(row: Any) -> RestrictionView:
    return RestrictionView(
        row.id, row.channel, row.actor, row.reason, row.recorded_at, row.lifted_at
    )


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


def _stream_postgresql(
    connection: Connection, query: Select[Any], batch: int
) -> Iterator[list[str]]:
    """Ids in chunks through libpq's chunked streaming (psycopg ``stream(size=...)``).

    Not a server-side cursor: PostgreSQL neither runs cursors in parallel nor plans
    them for the whole result, which made streaming a million ids several times slower
    than counting them.  Parameters here are strings and aware datetimes, which psycopg
    adapts exactly as the column types would.
    """
    compiled = query.compile(
        dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
    )
    driver: Any = connection.connection.driver_connection
    cursor = driver.cursor()
    if "size" not in inspect.signature(cursor.stream).parameters:  # psycopg < 3.2
        cursor.execute(str(compiled), compiled.params)
        while rows := cursor.fetchmany(batch):
            yield [row[0] for row in rows]
        return
    chunk: list[str] = []
    for row in cursor.stream(str(compiled), compiled.params, size=batch):
        chunk.append(row[0])
        if len(chunk) >= batch:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class ConsentService:
    """Notices, the ledger, objections, restrictions, per-customer facts and proof."""

    def __init__(
        self, engine: Engine, taxonomy: Taxonomy, clock: Clock, audit: AuditLog | None = None
    ) -> None:
        self.engine = engine
        self.taxonomy = taxonomy
        self.clock = clock
        self.audit = audit

    @classmethod
    def from_vault(cls, vault: Vault) -> ConsentService:
        """The service of a vault: every consent change is recorded in its audit trail."""
        return cls(vault.engine, vault.taxonomy, vault.clock, AuditLog(vault))

    def _audit(
        self,
        session: Session,
        action: str,
        actor: str,
        *,
        customer_id: str | None = None,
        purpose: str | None = None,
        recipient: str | None = None,
        channel: str | None = None,
        kind: Kind = Kind.CONSENT,
    ) -> None:
        """Record a change in the audit trail, in the change's own transaction: if the
        entry cannot be written, the change does not happen either (fail closed)."""
        if self.audit is None:
            return
        subjects: tuple[str, ...] = ()
        if customer_id is not None:
            public_id = session.execute(
                select(CUSTOMERS.c.public_id).where(CUSTOMERS.c.id == customer_id)
            ).scalar_one()
            subjects = (public_id,)
        principal = _audit_name(actor) or "unknown"
        self.audit.append(
            session.connection(),
            AuditEntry(
                at=self.clock.now(),
                kind=kind,
                action=f"consent.{action}",
                principal=principal,
                outcome=Outcome.SUCCEEDED,
                purpose=purpose,
                recipient=_audit_name(recipient) if recipient else None,
                subjects=subjects,
                details={"channel": channel} if channel else {},
            ),
        )

    # -- validation --------------------------------------------------------------------

    def check_purpose(self, purpose: str, recipient: str | None) -> str | None:
        """The purpose must be a known data use; sharing needs a recipient, nothing else may."""
        self.taxonomy.require_use(purpose)
        wanted = (recipient or "").strip() or None
        if covers(SHARING, purpose) and wanted is None:
            raise InvalidInput(
                N_("Consent to '%(purpose)s' is given per recipient; name the recipient."),
                purpose=purpose,
            )
        if not covers(SHARING, purpose) and wanted is not None:
            raise InvalidInput(
                N_("Only consent to external sharing names a recipient, not '%(purpose)s'."),
                purpose=purpose,
            )
        if wanted is not None and len(wanted) > 200:
            raise InvalidInput(N_("A recipient name is at most 200 characters."))
        return wanted

    @staticmethod
    def _check_channel(channel: str) -> Channel:
        if channel not in CHANNELS:
            raise InvalidInput(
                N_("Unknown channel '%(channel)s'; use web, phone, paper, api or import."),
                channel=channel,
            )
        return channel

    @staticmethod
    def _check_actor(actor: str) -> str:
        actor = actor.strip()
        if not actor or len(actor) > 200:
            raise InvalidInput(N_("Say who recorded this (1 to 200 characters)."))
        return actor

    def resolve_customer(self, reference: str) -> CustomerRef:
        """A customer by internal id or public id (``cus_...``)."""
        return resolve_customer(self.engine, reference)

    # -- notices -----------------------------------------------------------------------

    def add_notice(self, draft: NoticeDraft, *, created_by: str) -> Notice:
        """A new version of notice ``draft.key`` (version 1 for a new key)."""
        created_by = self._check_actor(created_by)
        for purpose in draft.purposes:
            self.check_purpose(purpose, draft.recipient)
        now = self.clock.now()
        with session_scope(self.engine) as session:
            self._audit(
                session,
                "notice",
                created_by,
                purpose=draft.purposes[0],
                recipient=draft.recipient,
                kind=Kind.POLICY,
            )
            latest = session.execute(
                select(func.max(NOTICES.c.version)).where(NOTICES.c.key == draft.key)
            ).scalar_one()
            version = int(latest or 0) + 1
            row = session.execute(
                insert(NOTICES)
                .values(
                    key=draft.key,
                    version=version,
                    purposes=" ".join(draft.purposes),
                    recipient=draft.recipient or "",
                    title_en=draft.title.en,
                    title_cs=draft.title.cs,
                    title_ur=draft.title.ur,
                    text_en=draft.text.en,
                    text_cs=draft.text.cs,
                    text_ur=draft.text.ur,
                    expiry_months=draft.expiry_months,
                    created_at=now,
                    created_by=created_by,
                )
                .returning(*NOTICES.c)
            ).one()
        return _notice(row)

    def notices(self, *, current_only: bool = True) -> list[Notice]:
        """Every notice version, or only the latest version of each key."""
        query = select(NOTICES).order_by(NOTICES.c.key, NOTICES.c.version)
        if current_only:
            newest = (
                select(NOTICES.c.key, func.max(NOTICES.c.version).label("version"))
                .group_by(NOTICES.c.key)
                .subquery()
            )
            query = query.join(
                newest, and_(newest.c.key == NOTICES.c.key, newest.c.version == NOTICES.c.version)
            )
        with self.engine.connect() as connection:
            return [_notice(r) for r in connection.execute(query)]

    def notice(self, key: str, version: int | None = None) -> Notice:
        """Notice ``key`` at ``version`` (default: the latest)."""
        query = select(NOTICES).where(NOTICES.c.key == key)
        query = (
            query.where(NOTICES.c.version == version)
            if version is not None
            else query.order_by(NOTICES.c.version.desc()).limit(1)
        )
        with self.engine.connect() as connection:
            row = connection.execute(query).first()
        if row is None:
            raise NotFound(
                N_("No notice '%(key)s' (version %(version)s)."),
                key=key,
                version=version if version is not None else "latest",
            )
        return _notice(row)

    def notice_by_id(self, notice_id: int) -> Notice:
        with self.engine.connect() as connection:
            row = connection.execute(select(NOTICES).where(NOTICES.c.id == notice_id)).first()
        if row is None:
            raise NotFound(N_("No notice with id %(id)s."), id=notice_id)
        return _notice(row)

    def notice_for(self, purpose: str, recipient: str | None = None) -> Notice:
        """The latest notice covering ``purpose`` for ``recipient`` (what a request shows)."""
        wanted = recipient or None
        candidates = [n for n in self.notices() if n.covers(purpose) and n.recipient == wanted]
        if not candidates:
            raise NotFound(
                N_("No notice covers '%(purpose)s'; add one with 'privault consent notice add'."),
                purpose=purpose,
            )
        # The most specific notice: its nearest purpose to the asked one.
        return max(
            candidates,
            key=lambda n: (
                max(len(p) for p in n.purposes if covers(p, purpose)),
                n.created_at,
                n.id,
            ),
        )

    # -- the ledger --------------------------------------------------------------------

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
        wanted = self.check_purpose(purpose, recipient)
        channel = self._check_channel(channel)
        actor = self._check_actor(actor)
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
            self._lock_customer(session, customer_id)
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
                else self._current_notice(session, customer_id, purpose, wanted or "")
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
            self._apply(
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
            self._audit(
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
            else (self.notice_by_id(notice_id) if notice_id is not None else None),
        )

    def grant(self, customer_id: str, purpose: str, **kwargs: Any) -> LedgerEntry:
        return self.record(customer_id, purpose, "grant", **kwargs)

    def withdraw(self, customer_id: str, purpose: str, **kwargs: Any) -> LedgerEntry:
        kwargs.setdefault("notice", None)
        return self.record(customer_id, purpose, "withdraw", **kwargs)

    @staticmethod
    def _lock_customer(session: Session, customer_id: str) -> None:
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

    @staticmethod
    def _current_notice(
        session: Session, customer_id: str, purpose: str, recipient: str
    ) -> int | None:
        return session.execute(
            select(STATES.c.notice_id).where(
                STATES.c.customer_id == customer_id,
                STATES.c.purpose == purpose,
                STATES.c.recipient == recipient,
            )
        ).scalar_one_or_none()

    @staticmethod
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
        ConsentService._derive_selection(session, customer_id, recipient)

    @staticmethod
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

    # -- objections and restrictions ---------------------------------------------------

    def object(
        self, customer_id: str, purpose: str, *, channel: str, actor: str, reason: str = ""
    ) -> ObjectionView:
        """Art. 21: record an objection to ``purpose`` (covers its descendants)."""
        self.taxonomy.require_use(purpose)
        channel = self._check_channel(channel)
        actor = self._check_actor(actor)
        now = self.clock.now()
        with session_scope(self.engine) as session:
            self._lock_customer(session, customer_id)
            existing = session.execute(
                select(OBJECTIONS).where(
                    OBJECTIONS.c.customer_id == customer_id,
                    OBJECTIONS.c.purpose == purpose,
                    OBJECTIONS.c.lifted_at.is_(None),
                )
            ).first()
            if existing is not None:
                return _objection(existing)
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
            self._audit(
                session, "object", actor, customer_id=customer_id, purpose=purpose, channel=channel
            )
        return _objection(row)

    def lift_objection(self, customer_id: str, purpose: str, *, actor: str) -> int:
        """End the customer's live objections to exactly ``purpose``; how many ended."""
        actor = self._check_actor(actor)
        with session_scope(self.engine) as session:
            self._lock_customer(session, customer_id)
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
                self._audit(
                    session, "lift_objection", actor, customer_id=customer_id, purpose=purpose
                )
        return int(_rowcount(result))

    def restrict(
        self, customer_id: str, *, channel: str, actor: str, reason: str = ""
    ) -> RestrictionView:
        """Art. 18: from now on the customer's data is only stored (idempotent)."""
        channel = self._check_channel(channel)
        actor = self._check_actor(actor)
        with session_scope(self.engine) as session:
            self._lock_customer(session, customer_id)
            existing = session.execute(
                select(RESTRICTIONS).where(
                    RESTRICTIONS.c.customer_id == customer_id, RESTRICTIONS.c.lifted_at.is_(None)
                )
            ).first()
            if existing is not None:
                return _restriction(existing)
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
            self._audit(session, "restrict", actor, customer_id=customer_id, channel=channel)
        return _restriction(row)

    def lift_restriction(self, customer_id: str, *, actor: str) -> int:
        actor = self._check_actor(actor)
        with session_scope(self.engine) as session:
            self._lock_customer(session, customer_id)
            result = session.execute(
                update(RESTRICTIONS)
                .where(
                    RESTRICTIONS.c.customer_id == customer_id, RESTRICTIONS.c.lifted_at.is_(None)
                )
                .values(lifted_at=self.clock.now(), lifted_by=actor)
            )
            if _rowcount(result):
                self._audit(session, "lift_restriction", actor, customer_id=customer_id)
        if _rowcount(result) == 0:
            raise Conflict(N_("This customer's processing is not restricted."))
        return int(_rowcount(result))

    # -- reading -----------------------------------------------------------------------

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
                    n.id: _notice(n)
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
            tuple(_objection(o) for o in objections),
            tuple(_restriction(r) for r in restrictions),
        )

    # -- many customers ----------------------------------------------------------------

    def _at(self, at: datetime | None) -> datetime:
        return at or self.clock.now()

    def consent_filter(
        self, purpose: str, recipient: str | None = None, at: datetime | None = None
    ) -> ColumnElement[bool]:
        wanted = self.check_purpose(purpose, recipient)
        return consent_filter(purpose, wanted, at=self._at(at), bind=self.engine)

    def objection_filter(self, purpose: str, at: datetime | None = None) -> ColumnElement[bool]:
        self.taxonomy.require_use(purpose)
        return objection_filter(purpose, at=self._at(at), bind=self.engine)

    def restriction_filter(self, at: datetime | None = None) -> ColumnElement[bool]:
        return restriction_filter(at=self._at(at), bind=self.engine)

    def eligible_filter(
        self, purpose: str, recipient: str | None = None, at: datetime | None = None
    ) -> ColumnElement[bool]:
        wanted = self.check_purpose(purpose, recipient)
        return eligible_filter(purpose, wanted, at=self._at(at), bind=self.engine)

    def eligible_ids(
        self, purpose: str, recipient: str | None = None, at: datetime | None = None
    ) -> Select[Any]:
        wanted = self.check_purpose(purpose, recipient)
        return eligible_ids(purpose, wanted, at=self._at(at), bind=self.engine)

    def count_eligible(
        self, purpose: str, recipient: str | None = None, at: datetime | None = None
    ) -> int:
        """How many customers (not erased) may be used for ``purpose`` now."""
        ids = self.eligible_ids(purpose, recipient, at).subquery()
        with self.engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(ids)).scalar_one())

    def iter_eligible_ids(
        self,
        purpose: str,
        recipient: str | None = None,
        at: datetime | None = None,
        batch: int = ID_BATCH,
        *,
        ordered: bool = False,
    ) -> Iterator[list[str]]:
        """Ids of the customers who may be used for ``purpose``, in batches (in id order
        when ``ordered``; otherwise in index order, which is cheaper)."""
        query = self.eligible_ids(purpose, recipient, at)
        if ordered:
            query = query.order_by(query.selected_columns[0])
        with self.engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                yield from _stream_postgresql(connection, query, batch)
                return
            if connection.dialect.name != "sqlite":
                streamed = connection.execution_options(yield_per=batch).execute(query)
                for part in streamed.scalars().partitions(batch):
                    yield list(part)
                return
            # SQLite steps through rows lazily anyway.  Ids are plain strings: read the
            # driver's cursor directly and skip building a Row per id.
            result = cast(CursorResult[Any], connection.execute(query))
            try:
                while rows := result.cursor.fetchmany(batch):
                    yield [row[0] for row in rows]
            finally:
                result.close()

    def count_exclusions(
        self, purpose: str, recipient: str | None = None, at: datetime | None = None
    ) -> ExclusionCounts:
        """How many customers ``purpose`` reaches, and how many each reason excludes
        (customers not erased; a customer may count under several reasons)."""
        wanted = self.check_purpose(purpose, recipient)
        when = self._at(at)
        dialect = dialect_name(self.engine)
        alive = CUSTOMERS.c.erased_at.is_(None)

        def count_of(query: Select[Any]) -> Any:
            return select(func.count()).select_from(query.subquery()).scalar_subquery()

        erased = erased_ids()
        granted = granted_ids(purpose, wanted or "", when).subquery("granted")
        objecting = objecting_ids(purpose, when).distinct().subquery("objecting")
        restricted = restricted_ids(when).distinct().subquery("restricted")

        def alive_among(ids: Any) -> Select[Any]:
            # Counted from the consent tables, leaving out erased customers: no
            # customer row is read per id.
            return select(ids.c.customer_id).where(
                without(
                    dialect, ids.c.customer_id, erased, lambda: CUSTOMERS.c.id == ids.c.customer_id
                )
            )

        query = select(
            count_of(select(CUSTOMERS.c.id).where(alive)),
            count_of(eligible_ids(purpose, wanted, at=when, bind=dialect)),
            count_of(alive_among(granted)),
            count_of(alive_among(objecting)),
            count_of(alive_among(restricted)),
        )
        with self.engine.connect() as connection:
            total, eligible, consented, objection, restriction = connection.execute(query).one()
        return ExclusionCounts(
            purpose,
            wanted,
            int(total),
            int(eligible),
            int(total) - int(consented),
            int(objection),
            int(restriction),
        )

    def undecided(
        self, purpose: str, recipient: str | None = None, at: datetime | None = None
    ) -> list[CustomerRef]:
        """Customers a consent request may ask: no decision, no objection, not restricted,
        not erased."""
        wanted = self.check_purpose(purpose, recipient)
        when = self._at(at)
        query = (
            select(CUSTOMERS.c.id, CUSTOMERS.c.public_id, CUSTOMERS.c.language)
            .where(
                CUSTOMERS.c.erased_at.is_(None),
                undecided_filter(purpose, wanted, at=when),
                objection_filter(purpose, at=when, bind=self.engine),
                restriction_filter(at=when, bind=self.engine),
            )
            .order_by(CUSTOMERS.c.id)
        )
        with self.engine.connect() as connection:
            return [CustomerRef(*row) for row in connection.execute(query)]
