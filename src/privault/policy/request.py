"""What goes into a decision: the request, and one customer's consent facts.

The engine is pure, so a customer's consent, objection and restriction state arrives
as data (``CustomerFacts``); for many customers at once the engine answers with a
``Condition`` instead, which the store turns into a SQL filter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Literal

from privault.catalog.taxonomy import ancestors, covers
from privault.policy.reasons import Reason, reason

Action = Literal["read", "export", "share", "write", "delete"]
ACTIONS: Final[tuple[Action, ...]] = ("read", "export", "share", "write", "delete")

View = Literal["plain", "masked", "tokenized"]
# How much of a value a view reveals; a grant's view is the most revealing one, a
# hand-over gets the least revealing of giver and receiver.
VIEW_RANK: Final[dict[str, int]] = {"tokenized": 1, "masked": 2, "plain": 3}
VIEWS: Final[tuple[View, ...]] = ("plain", "masked", "tokenized")


@dataclass(frozen=True, slots=True)
class Request:
    """Who wants which fields, for what, and who gets them.

    ``recipient`` is ``None`` (or the principal itself) when the asker keeps the result;
    otherwise another principal or a registered external recipient.  ``customers`` is how
    many customers the request touches; ``approved`` says an owner approved a larger one.
    ``roles`` narrows the principal to some of its roles (least privilege: an API key
    scoped to one role); empty means all of them.  Requests are hashable and remember
    their hash, because decisions are cached per request.
    """

    principal: str
    purpose: str
    fields: tuple[str, ...]
    action: str = "read"
    recipient: str | None = None
    customers: int = 1
    approved: bool = False
    roles: tuple[str, ...] = ()
    _hash: int = field(default=0, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.fields, tuple):
            object.__setattr__(self, "fields", tuple(self.fields))
        if not isinstance(self.roles, tuple):
            object.__setattr__(self, "roles", tuple(self.roles))
        object.__setattr__(
            self,
            "_hash",
            hash(
                (
                    self.principal,
                    self.purpose,
                    self.fields,
                    self.action,
                    self.recipient,
                    self.customers,
                    self.approved,
                    self.roles,
                )
            ),
        )

    def __hash__(self) -> int:
        return self._hash

    def as_dict(self) -> dict[str, object]:
        return {
            "principal": self.principal,
            "purpose": self.purpose,
            "fields": list(self.fields),
            "action": self.action,
            "recipient": self.recipient,
            "customers": self.customers,
            "approved": self.approved,
            "roles": list(self.roles),
        }


@dataclass(frozen=True, slots=True)
class CustomerFacts:
    """One customer's recorded choices, as the engine needs them -- no identity, no values.

    ``consents``: purpose keys with active consent.  ``sharing``: names of external
    recipients the customer agreed to share with.  ``objections``: purpose keys objected
    to (Art. 21).  ``restricted``: processing restricted (Art. 18).
    """

    consents: frozenset[str] = frozenset()
    sharing: frozenset[str] = frozenset()
    objections: frozenset[str] = frozenset()
    restricted: bool = False


@dataclass(frozen=True, slots=True)
class Condition:
    """Which customers a (bulk) answer may include: every clause that is set must hold.

    - ``consent_to = P``: the customer has active consent to ``P`` or to an ancestor
      of ``P`` (consent to ``marketing`` covers ``marketing.communications.email``;
      consent to a narrower purpose does not cover a broader one).
      SQL: ``consent.purpose IN ancestors(P)`` (exact keys, see ``consent_keys``).
    - ``share_with = (X, ...)``: the customer consented to sharing with every named
      external recipient.  SQL: one ``EXISTS`` per name.
    - ``not_objected = P``: the customer has not objected to ``P``, to an ancestor of
      ``P`` (an objection to ``marketing`` covers all ``marketing.*``) nor to a
      descendant of ``P`` (a request for all of ``marketing`` would include the part
      objected to).  SQL: ``NOT EXISTS (purpose IN ancestors(P) OR purpose LIKE 'P.%')``.
    - ``not_restricted``: processing of the customer is not restricted.

    The empty condition (``ALWAYS``) holds for everyone.  ``holds(facts)`` is the same
    test in Python, and agrees with the single-customer decision by construction.
    """

    consent_to: str | None = None
    share_with: tuple[str, ...] = ()
    not_objected: str | None = None
    not_restricted: bool = False
    consent_reason: Reason | None = field(default=None, compare=False, repr=False)

    @property
    def is_always(self) -> bool:
        return (
            self.consent_to is None
            and not self.share_with
            and self.not_objected is None
            and not self.not_restricted
        )

    @property
    def consent_keys(self) -> tuple[str, ...]:
        """Purpose keys whose consent satisfies ``consent_to`` (the key and its ancestors)."""
        return ancestors(self.consent_to) if self.consent_to is not None else ()

    def holds(self, facts: CustomerFacts) -> bool:
        return self.first_failure(facts) is None

    def first_failure(self, facts: CustomerFacts) -> Reason | None:
        """The reason this customer is excluded, checked in DESIGN.md §4 order, or None."""
        if self.consent_to is not None and facts.consents.isdisjoint(ancestors(self.consent_to)):
            return self.consent_reason or reason("consent_required", purpose=self.consent_to)
        for name in self.share_with:
            if name not in facts.sharing:
                return reason("sharing_consent_required", recipient=name)
        purpose = self.not_objected
        if purpose is not None and any(
            covers(objection, purpose) or covers(purpose, objection)
            for objection in facts.objections
        ):
            return reason("objected", purpose=purpose)
        if self.not_restricted and facts.restricted:
            return reason("restricted")
        return None

    def reasons(self) -> tuple[Reason, ...]:
        """Every reason a customer may be excluded for, in step order (for explanations)."""
        found: list[Reason] = []
        if self.consent_to is not None:
            found.append(self.consent_reason or reason("consent_required", purpose=self.consent_to))
        found.extend(reason("sharing_consent_required", recipient=name) for name in self.share_with)
        if self.not_objected is not None:
            found.append(reason("objected", purpose=self.not_objected))
        if self.not_restricted:
            found.append(reason("restricted"))
        return tuple(found)

    def as_dict(self) -> dict[str, object]:
        return {
            "consent_to": self.consent_to,
            "consent_keys": list(self.consent_keys),
            "share_with": list(self.share_with),
            "not_objected": self.not_objected,
            "not_restricted": self.not_restricted,
        }


ALWAYS: Final[Condition] = Condition()
