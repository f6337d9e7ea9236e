"""Policy conditions as SQL over ``customers``, with the same semantics as
``Condition.first_failure`` (DESIGN.md §4 steps 5-7, checked in that order).

Built on the consent slice's id sets (consent to P counts for P's descendants, the most
specific decision wins, objections cover descendants, restriction blocks all use), plus
one clause of the policy: an objection to a *narrower* purpose also excludes a request
for a broader one (``marketing`` when the customer objected to e-mail marketing).

Each id set a group of conditions needs (the grants of one purpose and recipient, the
objections touching one purpose, the restrictions) is LEFT JOINed to ``customers`` once,
and every clause becomes a test on a joined column.  An export's summary and its rows
are then one pass over the customers with hash or merge joins: an ``IN (subquery)``
inside a ``CASE`` would be a sub-plan that PostgreSQL re-runs for every customer once
the set outgrows ``work_mem`` (an export of 1,000,000 customers did not finish).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    FromClause,
    Select,
    and_,
    case,
    false,
    func,
    or_,
    select,
    true,
)

from privault.catalog.taxonomy import ancestors, covers
from privault.consent import filters as consent
from privault.consent.models import Objection
from privault.consent.schemas import ConsentFacts
from privault.policy import Condition
from privault.store.tables import Customer, table_of

CUSTOMERS = table_of(Customer)
OBJECTIONS = table_of(Objection)
SHARING_PURPOSE = "third_party_sharing"
INCLUDED = "included"


def _objecting_ids(purpose: str, at: datetime) -> Select[Any]:
    """Customers with a live objection to ``purpose``, an ancestor or a descendant."""
    narrower = purpose.replace("%", r"\%").replace("_", r"\_") + ".%"
    return (
        select(OBJECTIONS.c.customer_id)
        .where(
            or_(
                OBJECTIONS.c.purpose.in_(ancestors(purpose)),
                OBJECTIONS.c.purpose.like(narrower, escape="\\"),
            ),
            OBJECTIONS.c.recorded_at <= at,
            or_(OBJECTIONS.c.lifted_at.is_(None), OBJECTIONS.c.lifted_at > at),
        )
        .distinct()
    )


class Joined:
    """``customers`` LEFT JOINed to the id sets that conditions test, at one moment.

    ``clauses`` turns a condition into tests on the joined columns; asking for the same
    set twice (two conditions needing one consent) reuses its join.  Select from
    ``source`` after building every test.
    """

    def __init__(self, at: datetime) -> None:
        self.at = at
        self.source: FromClause = CUSTOMERS
        self._sets: dict[Hashable, Any] = {}

    def _member(self, key: Hashable, ids: Select[Any]) -> ColumnElement[bool]:
        """The customer is in ``ids`` (a SELECT of distinct ``customer_id``)."""
        joined = self._sets.get(key)
        if joined is None:
            joined = ids.subquery(f"set{len(self._sets)}")
            self._sets[key] = joined
            self.source = self.source.outerjoin(joined, joined.c.customer_id == CUSTOMERS.c.id)
        member: ColumnElement[bool] = joined.c.customer_id.is_not(None)
        return member

    def _granted(self, purpose: str, recipient: str) -> ColumnElement[bool]:
        ids = consent.granted_ids(purpose, recipient, self.at)  # each id once
        return self._member(("granted", purpose, recipient), ids)

    def clauses(self, condition: Condition) -> list[tuple[str, ColumnElement[bool]]]:
        """(reason code, SQL that holds when the clause passes), in the order reasons
        apply."""
        out: list[tuple[str, ColumnElement[bool]]] = []
        if condition.consent_to is not None:
            reason = condition.consent_reason
            code = reason.code if reason else "consent_required"
            out.append((code, self._granted(condition.consent_to, "")))
        for recipient in condition.share_with:
            out.append(("sharing_consent_required", self._granted(SHARING_PURPOSE, recipient)))
        if condition.not_objected is not None:
            purpose = condition.not_objected
            objecting = self._member(("objected", purpose), _objecting_ids(purpose, self.at))
            out.append(("objected", ~objecting))
        if condition.not_restricted:
            restricted = consent.restricted_ids(self.at).distinct()
            out.append(("restricted", ~self._member("restricted", restricted)))
        return out

    def passes(self, condition: Condition) -> ColumnElement[bool]:
        parts = [sql for _, sql in self.clauses(condition)]
        return and_(*parts) if parts else true()

    def any_of(self, conditions: Sequence[Condition]) -> ColumnElement[bool]:
        if not conditions:
            return false()
        return or_(*(self.passes(c) for c in conditions))


def tally(
    connection: Connection, conditions: Sequence[Condition], base: ColumnElement[bool], at: datetime
) -> tuple[int, Counter[str]]:
    """For the customers matching ``base``: how many pass any of ``conditions`` (an
    export's rows), and how many of the others fail the first, by first failing reason.

    One aggregate query, one pass over the customers: each is counted once, as included
    or under the first clause of ``conditions[0]`` it fails (the widest condition of an
    export comes first).
    """
    if not conditions:
        return 0, Counter()
    rows = connection.execute(tally_query(conditions, base, at)).all()
    counts = Counter({str(code): int(count) for code, count in rows if code is not None})
    return counts.pop(INCLUDED, 0), counts


def tally_query(
    conditions: Sequence[Condition], base: ColumnElement[bool], at: datetime
) -> Select[tuple[Any, int]]:
    """``tally``'s statement: (reason or ``INCLUDED``, count) rows."""
    joined = Joined(at)
    whens: list[Any] = [(joined.any_of(conditions), INCLUDED)]
    whens += [(~sql, code) for code, sql in joined.clauses(conditions[0])]
    reason = case(*whens, else_=None).label("reason")
    inner = select(reason).select_from(joined.source).where(base).subquery()
    return select(inner.c.reason, func.count()).group_by(inner.c.reason)


def failure_from_facts(condition: Condition, facts: ConsentFacts) -> str | None:
    """The first failing reason for one customer (None when the condition holds), from
    the customer's facts loaded once -- the same answer as ``tally`` over that customer.

    Single-customer reads use this (a few indexed queries instead of compiling every
    filter); ``tests/access/test_conditions.py`` pins that both always agree.
    """
    if condition.consent_to is not None and not facts.has_consent(condition.consent_to):
        return condition.consent_reason.code if condition.consent_reason else "consent_required"
    for recipient in condition.share_with:
        if not facts.has_consent(SHARING_PURPOSE, recipient):
            return "sharing_consent_required"
    purpose = condition.not_objected
    if purpose is not None and any(
        (covers(o.purpose, purpose) or covers(purpose, o.purpose))
        and o.recorded_at <= facts.at
        and (o.lifted_at is None or o.lifted_at > facts.at)
        for o in facts.objections
    ):
        return "objected"
    if condition.not_restricted and facts.restricted:
        return "restricted"
    return None
