"""What comes out of a decision: per field allow-with-view or deny-with-reasons.

Decisions are frozen and hold names and reason codes only, never customer data, so
the engine caches and shares them and the audit trail can record them as they are.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from privault.policy.reasons import Reason, Rule
from privault.policy.request import Condition, CustomerFacts, Request, View

Effect = Literal["allow", "conditional", "partial", "deny"]


@dataclass(frozen=True, slots=True)
class FieldDecision:
    """One field's answer.  ``condition`` is None when denied, ``ALWAYS`` when unconditional.

    ``reasons`` are the deny reasons of a denied field, or for an allowed field the
    reasons its condition may exclude customers for.
    """

    field: str
    allowed: bool
    view: View | None
    reasons: tuple[Reason, ...]
    condition: Condition | None

    @property
    def conditional(self) -> bool:
        return self.condition is not None and not self.condition.is_always

    def as_dict(self) -> dict[str, object]:
        return {
            "field": self.field,
            "allowed": self.allowed,
            "view": self.view,
            "condition": None if self.condition is None else self.condition.as_dict(),
            "reasons": [r.as_dict() for r in self.reasons],
        }


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer to a request.  ``reasons`` are request-level (approval); fields have theirs."""

    request: Request
    effect: Effect
    fields: tuple[FieldDecision, ...]
    reasons: tuple[Reason, ...]
    policy: str

    @property
    def allowed(self) -> bool:
        """True when every requested field may be released (perhaps to some customers only)."""
        return self.effect in ("allow", "conditional")

    @property
    def codes(self) -> frozenset[str]:
        """Every reason code in the decision, request-level and per field."""
        return frozenset(r.code for r in self.all_reasons())

    @property
    def rules(self) -> frozenset[Rule]:
        return frozenset(r.rule for r in self.all_reasons())

    def all_reasons(self) -> tuple[Reason, ...]:
        seen: dict[tuple[str, tuple[tuple[str, str], ...], str], Reason] = {}
        for item in (*self.reasons, *(r for f in self.fields for r in f.reasons)):
            seen.setdefault((item.code, item.params, item.message), item)
        return tuple(seen.values())

    def field(self, name: str) -> FieldDecision:
        for item in self.fields:
            if item.field == name:
                return item
        raise KeyError(name)

    @property
    def views(self) -> Mapping[str, View]:
        """Allowed fields and the view each is released in."""
        return {f.field: f.view for f in self.fields if f.allowed and f.view is not None}

    def exclusions(self, customers: Iterable[CustomerFacts]) -> Counter[str]:
        """How many customers each reason code excludes (bulk answers report this).

        A customer counts once, under the first failing clause of the first allowed
        field that excludes them.  Pure: the store does the same in SQL.
        """
        tally: Counter[str] = Counter()
        conditions = [f.condition for f in self.fields if f.allowed and f.conditional]
        for facts in customers:
            for condition in conditions:
                assert condition is not None
                failure = condition.first_failure(facts)
                if failure is not None:
                    tally[failure.code] += 1
                    break
        return tally

    def as_dict(self) -> dict[str, object]:
        return {
            "request": self.request.as_dict(),
            "effect": self.effect,
            "allowed": self.allowed,
            "policy": self.policy,
            "rules": sorted(self.rules),
            "codes": sorted(self.codes),
            "reasons": [r.as_dict() for r in self.reasons],
            "fields": [f.as_dict() for f in self.fields],
        }


def effect_of(fields: tuple[FieldDecision, ...], request_reasons: tuple[Reason, ...]) -> Effect:
    """Deny overrides allow: any request-level reason, or no allowed field, is a denial."""
    allowed = [f for f in fields if f.allowed]
    if request_reasons or not allowed:
        return "deny"
    if len(allowed) < len(fields):
        return "partial"
    if any(f.conditional for f in allowed):
        return "conditional"
    return "allow"
