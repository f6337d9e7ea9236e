"""SQL filters over ``customers.id``: consent, objection, restriction, eligibility.

The semantics are those of the ledger (see ``privault.consent.service``); ``ConsentFacts.allows``
applies the same rules to one customer in Python.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Connection,
    Dialect,
    Engine,
    Select,
    Table,
    and_,
    exists,
    or_,
    select,
    union_all,
)

from privault.catalog.taxonomy import ancestors
from privault.consent.models import (
    ConsentEvent,
    ConsentNotice,
    ConsentState,
    Objection,
    Restriction,
)
from privault.store.tables import Customer

CUSTOMERS = cast(Table, Customer.__table__)
NOTICES = cast(Table, ConsentNotice.__table__)
EVENTS = cast(Table, ConsentEvent.__table__)
STATES = cast(Table, ConsentState.__table__)
OBJECTIONS = cast(Table, Objection.__table__)
RESTRICTIONS = cast(Table, Restriction.__table__)


# -- filters: boolean expressions over customers.id ---------------------------------------


Bind = Engine | Connection | Dialect | str | None


def dialect_name(bind: Bind) -> str:
    """The dialect name: set-based ``NOT IN`` suits SQLite, anti-joins suit PostgreSQL."""
    if bind is None:
        return "postgresql"
    if isinstance(bind, str):
        return bind
    return bind.name if isinstance(bind, Dialect) else bind.dialect.name


def _live(table: Any, at: datetime) -> ColumnElement[bool]:
    return or_(table.c.expires_at.is_(None), table.c.expires_at > at)


def without(
    dialect: str, column: Any, ids: Select[Any], correlate: Callable[[], ColumnElement[bool]]
) -> ColumnElement[bool]:
    """``column`` not among ``ids``.  SQLite: ``NOT IN`` (one ephemeral set, probed per
    row).  PostgreSQL: ``NOT EXISTS`` (a hash anti-join that never depends on work_mem)."""
    if dialect == "sqlite":
        absent: ColumnElement[bool] = column.not_in(ids)
        return absent
    return ~exists(ids.where(correlate()))


def granted_ids(purpose: str, recipient: str, at: datetime, dialect: str) -> Select[Any]:
    """Customer ids whose most specific decision covering ``purpose`` is a live grant.

    One branch per ancestor (nearest first); branch *i* drops customers with a
    withdrawal or a live grant on a nearer key, so the branches are disjoint and every
    customer appears at most once -- no de-duplication needed.
    """
    chain = ancestors(purpose)
    branches: list[Select[Any]] = []
    for depth, key in enumerate(chain):
        branch = select(STATES.c.customer_id).where(
            STATES.c.purpose == key,
            STATES.c.recipient == recipient,
            STATES.c.status == "grant",
            _live(STATES, at),
        )
        if depth > 0:
            nearer = STATES.alias("nearer")
            decided = select(nearer.c.customer_id).where(
                nearer.c.purpose.in_(chain[:depth]),
                nearer.c.recipient == recipient,
                or_(nearer.c.status == "withdraw", _live(nearer, at)),
            )
            branch = branch.where(
                without(
                    dialect,
                    STATES.c.customer_id,
                    decided,
                    lambda n=nearer: n.c.customer_id == STATES.c.customer_id,  # type: ignore[misc]
                )
            )
        branches.append(branch)
    return branches[0] if len(branches) == 1 else union_all(*branches)  # type: ignore[return-value]


def objecting_ids(purpose: str, at: datetime) -> Select[Any]:
    return select(OBJECTIONS.c.customer_id).where(
        OBJECTIONS.c.purpose.in_(ancestors(purpose)),
        OBJECTIONS.c.recorded_at <= at,
        or_(OBJECTIONS.c.lifted_at.is_(None), OBJECTIONS.c.lifted_at > at),
    )


def restricted_ids(at: datetime) -> Select[Any]:
    return select(RESTRICTIONS.c.customer_id).where(
        RESTRICTIONS.c.recorded_at <= at,
        or_(RESTRICTIONS.c.lifted_at.is_(None), RESTRICTIONS.c.lifted_at > at),
    )


def erased_ids() -> Select[Any]:
    # Erasure clears key_version (customers.service.destroy_key), so the indexed
    # ``key_version IS NULL`` narrows the search; ``erased_at`` still decides.
    return select(CUSTOMERS.c.id).where(
        CUSTOMERS.c.key_version.is_(None), CUSTOMERS.c.erased_at.is_not(None)
    )


def consent_filter(
    purpose: str, recipient: str | None = None, *, at: datetime, bind: Bind = None
) -> ColumnElement[bool]:
    """Customers with active consent to ``purpose`` (and ``recipient``) at ``at``: a
    condition on ``customers.id`` (``bind`` picks the dialect's best form)."""
    return CUSTOMERS.c.id.in_(granted_ids(purpose, recipient or "", at, dialect_name(bind)))


def objection_filter(purpose: str, *, at: datetime, bind: Bind = None) -> ColumnElement[bool]:
    """Customers with no objection, live at ``at``, to ``purpose`` or an ancestor."""
    ids = objecting_ids(purpose, at)
    return without(
        dialect_name(bind), CUSTOMERS.c.id, ids, lambda: OBJECTIONS.c.customer_id == CUSTOMERS.c.id
    )


def restriction_filter(*, at: datetime, bind: Bind = None) -> ColumnElement[bool]:
    """Customers whose processing is not restricted at ``at`` (storage is always allowed)."""
    ids = restricted_ids(at)
    return without(
        dialect_name(bind),
        CUSTOMERS.c.id,
        ids,
        lambda: RESTRICTIONS.c.customer_id == CUSTOMERS.c.id,
    )


def eligible_filter(
    purpose: str, recipient: str | None = None, *, at: datetime, bind: Bind = None
) -> ColumnElement[bool]:
    """Active consent, no objection and no restriction: who may be used for ``purpose``."""
    return and_(
        consent_filter(purpose, recipient, at=at, bind=bind),
        objection_filter(purpose, at=at, bind=bind),
        restriction_filter(at=at, bind=bind),
    )


def eligible_ids(
    purpose: str, recipient: str | None = None, *, at: datetime, bind: Bind = None
) -> Select[Any]:
    """The ids of the customers ``eligible_filter`` admits, not erased, as one SELECT over
    the consent tables alone (each id once).  The fast path for counting and streaming
    in bulk: it never touches a customer row except to leave out erased ones."""
    dialect = dialect_name(bind)
    granted = granted_ids(purpose, recipient or "", at, dialect).subquery("granted")
    erased = erased_ids()
    if dialect == "sqlite":
        # One probe per id into one small set beats three.
        excluded = union_all(objecting_ids(purpose, at), restricted_ids(at), erased)
        return select(granted.c.customer_id).where(granted.c.customer_id.not_in(excluded))
    return select(granted.c.customer_id).where(
        without(
            dialect,
            granted.c.customer_id,
            objecting_ids(purpose, at),
            lambda: OBJECTIONS.c.customer_id == granted.c.customer_id,
        ),
        without(
            dialect,
            granted.c.customer_id,
            restricted_ids(at),
            lambda: RESTRICTIONS.c.customer_id == granted.c.customer_id,
        ),
        without(
            dialect, granted.c.customer_id, erased, lambda: CUSTOMERS.c.id == granted.c.customer_id
        ),
    )


def undecided_filter(
    purpose: str, recipient: str | None = None, *, at: datetime
) -> ColumnElement[bool]:
    """Customers with neither a live grant nor a withdrawal covering ``purpose``: whom a
    consent request may ask.  (Customers who said no are not asked again.)"""
    wanted = recipient or ""
    return ~exists().where(
        STATES.c.customer_id == CUSTOMERS.c.id,
        STATES.c.recipient == wanted,
        STATES.c.purpose.in_(ancestors(purpose)),
        or_(
            STATES.c.status == "withdraw",
            STATES.c.expires_at.is_(None),
            STATES.c.expires_at > at,
        ),
    )
