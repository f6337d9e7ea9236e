"""Policy conditions as SQL over ``customers``, with the same semantics as
``Condition.first_failure`` (DESIGN.md §4 steps 5-7, checked in that order).

Built on the consent slice's filters (consent to P counts for P's descendants, the most
specific decision wins, objections cover descendants, restriction blocks all use), plus
one clause of the policy: an objection to a *narrower* purpose also excludes a request
for a broader one (``marketing`` when the customer objected to e-mail marketing).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, case, exists, false, func, or_, select, true

from privault.catalog.taxonomy import covers
from privault.consent import filters as consent
from privault.consent.models import Objection
from privault.consent.schemas import ConsentFacts
from privault.policy import Condition
from privault.store.tables import Customer, table_of

CUSTOMERS = table_of(Customer)
OBJECTIONS = table_of(Objection)
SHARING_PURPOSE = "third_party_sharing"


def _no_narrower_objection(purpose: str, at: datetime) -> ColumnElement[bool]:
    return ~exists().where(
        OBJECTIONS.c.customer_id == CUSTOMERS.c.id,
        OBJECTIONS.c.purpose.like(
            purpose.replace("%", r"\%").replace("_", r"\_") + ".%", escape="\\"
        ),
        OBJECTIONS.c.recorded_at <= at,
        or_(OBJECTIONS.c.lifted_at.is_(None), OBJECTIONS.c.lifted_at > at),
    )


def clauses(condition: Condition, at: datetime) -> list[tuple[str, ColumnElement[bool]]]:
    """(reason code, SQL that holds when the clause passes), in the order reasons apply."""
    out: list[tuple[str, ColumnElement[bool]]] = []
    if condition.consent_to is not None:
        code = condition.consent_reason.code if condition.consent_reason else "consent_required"
        out.append((code, consent.consent_filter(condition.consent_to, at=at)))
    for recipient in condition.share_with:
        out.append(
            ("sharing_consent_required", consent.consent_filter(SHARING_PURPOSE, recipient, at=at))
        )
    if condition.not_objected is not None:
        out.append(
            (
                "objected",
                and_(
                    consent.objection_filter(condition.not_objected, at=at),
                    _no_narrower_objection(condition.not_objected, at),
                ),
            )
        )
    if condition.not_restricted:
        out.append(("restricted", consent.restriction_filter(at=at)))
    return out


def to_sql(condition: Condition, at: datetime) -> ColumnElement[bool]:
    parts = [sql for _, sql in clauses(condition, at)]
    if not parts:
        return true()
    return and_(*parts)


def any_of(conditions: Sequence[Condition], at: datetime) -> ColumnElement[bool]:
    if not conditions:
        return false()
    return or_(*(to_sql(c, at) for c in conditions))


def first_failures(
    connection: Connection, condition: Condition, base: ColumnElement[bool], at: datetime
) -> Counter[str]:
    """How many customers matching ``base`` fail ``condition``, by first failing reason.

    One aggregate query: each customer counts once, under the first clause it fails.
    """
    parts = clauses(condition, at)
    if not parts:
        return Counter()
    whens: list[Any] = [(~sql, code) for code, sql in parts]
    reason = case(*whens, else_=None).label("reason")
    inner = select(reason).where(base).subquery()
    rows = connection.execute(
        select(inner.c.reason, func.count())
        .where(inner.c.reason.is_not(None))
        .group_by(inner.c.reason)
    ).all()
    return Counter({str(code): int(count) for code, count in rows})


INCLUDED = "included"


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
    whens: list[Any] = [(any_of(conditions, at), INCLUDED)]
    whens += [(~sql, code) for code, sql in clauses(conditions[0], at)]
    reason = case(*whens, else_=None).label("reason")
    inner = select(reason).where(base).subquery()
    rows = connection.execute(select(inner.c.reason, func.count()).group_by(inner.c.reason)).all()
    counts = Counter({str(code): int(count) for code, count in rows if code is not None})
    return counts.pop(INCLUDED, 0), counts


def failure_for(
    connection: Connection, condition: Condition, customer_id: str, at: datetime
) -> str | None:
    """The first failing reason for one customer, or None when the condition holds (SQL)."""
    counts = first_failures(connection, condition, CUSTOMERS.c.id == customer_id, at)
    return next(iter(counts), None)


def failure_from_facts(condition: Condition, facts: ConsentFacts) -> str | None:
    """The same answer as ``failure_for``, from one customer's facts loaded once.

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
