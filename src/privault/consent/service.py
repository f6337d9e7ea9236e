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

``ConsentService`` is the one consent service the shells use.  Whoever builds it (the
composition root) hands it its collaborators; it passes each part only what that part
needs:

* ``notices.Notices``       -- versioned notices in en/cs/ur;
* ``ledger.Ledger``         -- grants and withdrawals, objections, restrictions (writes);
* ``facts.CustomerFacts``   -- one customer's facts and the proof (reads);
* ``selection.Selection``   -- filters, counts and id streams over many customers;
* ``trail.ConsentTrail`` and ``validation`` -- the audit entries and checks they share.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, Select

from privault.audit import AuditLog
from privault.catalog.taxonomy import Taxonomy
from privault.clock import Clock
from privault.consent.facts import CustomerFacts
from privault.consent.ledger import Ledger, add_months
from privault.consent.notices import Notices
from privault.consent.schemas import (
    Action,
    ConsentFacts,
    ExclusionCounts,
    LedgerEntry,
    Notice,
    NoticeDraft,
    ObjectionView,
    Proof,
    RestrictionView,
)
from privault.consent.selection import ID_BATCH, Selection
from privault.consent.trail import ConsentTrail
from privault.consent.validation import check_purpose
from privault.customers.service import CustomerRef, resolve_customer

__all__ = ["ConsentService", "add_months"]


class ConsentService:
    """Notices, the ledger, objections, restrictions, per-customer facts and proof.

    Every change is recorded in ``audit`` in the change's own transaction.
    """

    def __init__(self, engine: Engine, taxonomy: Taxonomy, clock: Clock, audit: AuditLog) -> None:
        self.engine = engine
        self.taxonomy = taxonomy
        self.clock = clock
        self.audit = audit
        trail = ConsentTrail(audit, clock)
        self._notices = Notices(engine, taxonomy, clock, trail)
        self._ledger = Ledger(engine, taxonomy, clock, trail, self._notices)
        self._facts = CustomerFacts(engine, clock)
        self._selection = Selection(engine, taxonomy, clock)

    # -- validation --------------------------------------------------------------------

    def check_purpose(self, purpose: str, recipient: str | None) -> str | None:
        """The purpose must be a known data use; sharing needs a recipient, nothing else may."""
        return check_purpose(self.taxonomy, purpose, recipient)

    def resolve_customer(self, reference: str) -> CustomerRef:
        """A customer by internal id or public id (``cus_...``)."""
        return resolve_customer(self.engine, reference)

    # -- notices -----------------------------------------------------------------------

    def add_notice(self, draft: NoticeDraft, *, created_by: str) -> Notice:
        """A new version of notice ``draft.key`` (version 1 for a new key)."""
        return self._notices.add_notice(draft, created_by=created_by)

    def notices(self, *, current_only: bool = True) -> list[Notice]:
        """Every notice version, or only the latest version of each key."""
        return self._notices.notices(current_only=current_only)

    def notice(self, key: str, version: int | None = None) -> Notice:
        """Notice ``key`` at ``version`` (default: the latest)."""
        return self._notices.notice(key, version)

    def notice_by_id(self, notice_id: int) -> Notice:
        return self._notices.notice_by_id(notice_id)

    def notice_for(self, purpose: str, recipient: str | None = None) -> Notice:
        """The latest notice covering ``purpose`` for ``recipient`` (what a request shows)."""
        return self._notices.notice_for(purpose, recipient)

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
        """Append a grant or withdrawal and bring the derived state up to date, atomically
        (``Ledger.record`` says what each argument must be)."""
        return self._ledger.record(
            customer_id,
            purpose,
            action,
            notice=notice,
            channel=channel,
            actor=actor,
            recipient=recipient,
            evidence=evidence,
            occurred_at=occurred_at,
        )

    def grant(self, customer_id: str, purpose: str, **kwargs: Any) -> LedgerEntry:
        return self.record(customer_id, purpose, "grant", **kwargs)

    def withdraw(self, customer_id: str, purpose: str, **kwargs: Any) -> LedgerEntry:
        kwargs.setdefault("notice", None)
        return self.record(customer_id, purpose, "withdraw", **kwargs)

    # -- objections and restrictions ---------------------------------------------------

    def object(
        self, customer_id: str, purpose: str, *, channel: str, actor: str, reason: str = ""
    ) -> ObjectionView:
        """Art. 21: record an objection to ``purpose`` (covers its descendants)."""
        return self._ledger.object(
            customer_id, purpose, channel=channel, actor=actor, reason=reason
        )

    def lift_objection(self, customer_id: str, purpose: str, *, actor: str) -> int:
        """End the customer's live objections to exactly ``purpose``; how many ended."""
        return self._ledger.lift_objection(customer_id, purpose, actor=actor)

    def restrict(
        self, customer_id: str, *, channel: str, actor: str, reason: str = ""
    ) -> RestrictionView:
        """Art. 18: from now on the customer's data is only stored (idempotent)."""
        return self._ledger.restrict(customer_id, channel=channel, actor=actor, reason=reason)

    def lift_restriction(self, customer_id: str, *, actor: str) -> int:
        return self._ledger.lift_restriction(customer_id, actor=actor)

    # -- one customer ------------------------------------------------------------------

    def customer_consent_state(
        self,
        customer: str | CustomerRef,
        at: datetime | None = None,
        *,
        connection: Connection | None = None,
    ) -> ConsentFacts:
        """The pure facts for one customer; ``facts.allows(purpose, recipient)`` decides.

        ``customer`` is an internal id, or a ``CustomerRef`` the caller already resolved
        (the access gate's read path, which also lends its ``connection``).
        """
        return self._facts.customer_consent_state(customer, at, connection=connection)

    def proof(self, customer_id: str) -> Proof:
        """Art. 7(1): every event for the customer with the notice version and text shown."""
        return self._facts.proof(customer_id)

    # -- many customers ----------------------------------------------------------------

    def consent_filter(
        self, purpose: str, recipient: str | None = None, at: datetime | None = None
    ) -> ColumnElement[bool]:
        return self._selection.consent_filter(purpose, recipient, at)

    def objection_filter(self, purpose: str, at: datetime | None = None) -> ColumnElement[bool]:
        return self._selection.objection_filter(purpose, at)

    def restriction_filter(self, at: datetime | None = None) -> ColumnElement[bool]:
        return self._selection.restriction_filter(at)

    def eligible_filter(
        self, purpose: str, recipient: str | None = None, at: datetime | None = None
    ) -> ColumnElement[bool]:
        return self._selection.eligible_filter(purpose, recipient, at)

    def eligible_ids(
        self, purpose: str, recipient: str | None = None, at: datetime | None = None
    ) -> Select[Any]:
        return self._selection.eligible_ids(purpose, recipient, at)

    def count_eligible(
        self, purpose: str, recipient: str | None = None, at: datetime | None = None
    ) -> int:
        """How many customers (not erased) may be used for ``purpose`` now."""
        return self._selection.count_eligible(purpose, recipient, at)

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
        return self._selection.iter_eligible_ids(purpose, recipient, at, batch, ordered=ordered)

    def count_exclusions(
        self, purpose: str, recipient: str | None = None, at: datetime | None = None
    ) -> ExclusionCounts:
        """How many customers ``purpose`` reaches, and how many each reason excludes
        (customers not erased; a customer may count under several reasons)."""
        return self._selection.count_exclusions(purpose, recipient, at)

    def undecided(
        self, purpose: str, recipient: str | None = None, at: datetime | None = None
    ) -> list[CustomerRef]:
        """Customers a consent request may ask: no decision, no objection, not restricted,
        not erased."""
        return self._selection.undecided(purpose, recipient, at)
