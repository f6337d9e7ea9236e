"""SQL filters over ``customers.id``: consent, objection, restriction, eligibility.

The semantics are those of the ledger (see ``privault.consent.service``); ``ConsentFacts.allows``
applies the same rules to one customer in Python.

Selecting customers reads ``consent_states`` through one index
(``ix_consent_states_selection``).  For a use ``U`` whose ancestors, nearest first, are
``k0 = U, k1, ...``, a live grant on ``ki`` counts unless the customer has a decision in
force on a nearer ``kj`` (j < i).  Each state row lists the purposes of the customer's
decisions under it (``below``), so a row with nothing below decides on its own, and so
does a row whose ``below`` names no nearer key; only when a listed grant may have
lapsed (``below_expiry``) is the state table read again.  Likewise only ``screened``
rows (the customer objected, was restricted or was erased, at some time) are checked
against those tables.  No step builds or probes a set of every granted customer: the
work is a pass over a few index ranges, the same SQL on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
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
    false,
    literal,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import Integer

from privault.catalog.taxonomy import ancestors, covers
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


class _Position(FunctionElement[int]):
    """Where ``key`` starts in ``text`` (1-based; 0 when absent): ``instr`` on SQLite,
    ``strpos`` elsewhere -- an exact test, unlike ``LIKE``, which ignores case on SQLite."""

    type = Integer()
    inherit_cache = True
    name = "position"


@compiles(_Position)
def _strpos(element: _Position, compiler: SQLCompiler, **kw: Any) -> str:
    return f"strpos({compiler.process(element.clauses, **kw)})"


@compiles(_Position, "sqlite")
def _instr(element: _Position, compiler: SQLCompiler, **kw: Any) -> str:
    return f"instr({compiler.process(element.clauses, **kw)})"


def _lists_any(table: Any, keys: Iterable[str]) -> ColumnElement[bool]:
    """``table.below`` lists one of ``keys``."""
    return or_(*(_Position(table.c.below, literal(f" {key} ")) > 0 for key in keys))


def _decided_nearer(
    state: Any, keys: tuple[str, ...], recipient: str, at: datetime
) -> ColumnElement[bool]:
    """The customer of ``state`` (a state row) has a decision in force on one of ``keys``."""
    nearer = STATES.alias("nearer")
    return exists(
        select(nearer.c.customer_id)
        .where(
            nearer.c.customer_id == state.c.customer_id,
            nearer.c.purpose.in_(keys),
            nearer.c.recipient == recipient,
            or_(nearer.c.status == "withdraw", _live(nearer, at)),
        )
        .correlate(state)
    )


def _branches(purpose: str, recipient: str, at: datetime, *, screened: bool) -> list[Select[Any]]:
    """Disjoint SELECTs of the ids of the customers (with state rows ``screened`` or not)
    whose nearest decision in force on ``purpose`` or an ancestor is a grant; each such
    customer appears in exactly one of them.

    Per ancestor ``ki`` (nearest first), the live grants split by what lies below them:
    nothing (they decide alone); only decisions that stay in force (``below_expiry`` is
    NULL) or whose grants have not lapsed yet (``below_expiry > at``) -- they decide
    unless ``below`` names a nearer key (a string test on the row); and a listed grant
    that may have lapsed (``below_expiry <= at``) -- a lookup says whether a nearer
    decision is still in force.  Each branch is one index range with tests on the row,
    ANDed, so PostgreSQL plans index scans and anti-joins (never sub-plans), and the
    lookup runs only for the last, rare kind.
    """
    chain = ancestors(purpose)
    branches: list[Select[Any]] = []
    for depth, key in enumerate(chain):
        granted = select(STATES.c.customer_id).where(
            STATES.c.purpose == key,
            STATES.c.recipient == recipient,
            STATES.c.status == "grant",
            # ``= false`` rather than ``IS false``: only the former is an index condition.
            STATES.c.screened == (true() if screened else false()),
            _live(STATES, at),
        )
        nearer = chain[:depth]
        if not nearer:
            branches.append(granted)
            continue
        lasting = STATES.c.below_expiry.is_(None)
        unlisted = ~_lists_any(STATES, nearer)
        branches += [
            granted.where(lasting, STATES.c.below == ""),
            granted.where(lasting, STATES.c.below > "", unlisted),
            granted.where(STATES.c.below_expiry > at, unlisted),
            granted.where(
                STATES.c.below_expiry <= at, ~_decided_nearer(STATES, nearer, recipient, at)
            ),
        ]
    return branches


def _union(branches: list[Select[Any]]) -> Select[Any]:
    # A compound SELECT serves every caller of a Select here (subquery, order_by, count).
    return branches[0] if len(branches) == 1 else cast(Select[Any], union_all(*branches))


def granted_ids(purpose: str, recipient: str, at: datetime) -> Select[Any]:
    """Customer ids whose most specific decision covering ``purpose`` is a live grant
    (each id once)."""
    return _union(
        _branches(purpose, recipient, at, screened=False)
        + _branches(purpose, recipient, at, screened=True)
    )


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
    condition on ``customers.id`` (one form for every dialect; ``bind`` is not needed)."""
    del bind
    return CUSTOMERS.c.id.in_(granted_ids(purpose, recipient or "", at))


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
    in bulk: index ranges over ``consent_states``, one per ancestor of ``purpose`` and
    kind of row; objections, restrictions and erasure are looked up only for the
    customers the state rows mark ``screened``.  (One form for every dialect; ``bind``
    is not needed.)"""
    del bind
    plain = _branches(purpose, recipient or "", at, screened=False)
    rest = _union(_branches(purpose, recipient or "", at, screened=True)).subquery("screened")
    erased = CUSTOMERS.alias("erased")
    cleared = select(rest.c.customer_id).where(
        ~exists(objecting_ids(purpose, at).where(OBJECTIONS.c.customer_id == rest.c.customer_id)),
        ~exists(restricted_ids(at).where(RESTRICTIONS.c.customer_id == rest.c.customer_id)),
        ~exists(
            select(erased.c.id).where(
                erased.c.id == rest.c.customer_id,
                erased.c.key_version.is_(None),
                erased.c.erased_at.is_not(None),
            )
        ),
    )
    return _union([*plain, cleared])


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


# -- derived selection columns ------------------------------------------------------------


def selection_columns(
    decisions: Mapping[str, tuple[str, datetime | None]],
) -> dict[str, tuple[str, datetime | None]]:
    """``below`` and ``below_expiry`` for each of one customer's decisions with one
    recipient, from ``{purpose: (status, expires_at)}``.

    ``below`` lists the purposes decided under each one (sorted, a space at each end, or
    ``""``; purpose keys hold no spaces); ``below_expiry`` is the earliest expiry among
    the grants listed there.
    """
    derived: dict[str, tuple[str, datetime | None]] = {}
    for purpose in decisions:
        under = sorted(p for p in decisions if p != purpose and covers(purpose, p))
        expiries: list[datetime] = []
        for key in under:
            status, expires = decisions[key]
            if status == "grant" and expires is not None:
                expiries.append(expires)
        derived[purpose] = (
            f" {' '.join(under)} " if under else "",
            min(expiries) if expiries else None,
        )
    return derived
