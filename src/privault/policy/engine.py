"""Compile a policy into lookup tables and decide requests in DESIGN.md §4 order.

Rules R3-R5 live here as code, not configuration: no policy setting can skip a step.
Per (principal, roles, purpose, action, recipient) the engine computes every field's
answer once and keeps it; whole decisions are cached per request.  Decisions are
frozen, so one object serves every caller that asks the same question.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from privault.catalog.fields import FieldCatalog, FieldDefinition, load_fields
from privault.catalog.taxonomy import Taxonomy, covers
from privault.errors import N_, AccessDenied, InvalidInput
from privault.policy.decision import Decision, FieldDecision, effect_of
from privault.policy.loader import load_policy
from privault.policy.model import DenyRule, Policy, PurposeSpec, RoleSpec
from privault.policy.reasons import MESSAGES, Reason, reason
from privault.policy.request import (
    ACTIONS,
    ALWAYS,
    VIEW_RANK,
    Condition,
    CustomerFacts,
    Request,
    View,
)

CACHE_LIMIT: Final = 100_000
# Bases for which objection and restriction do not exclude a customer: Art. 21 covers
# processing on public task or legitimate interest (and direct marketing); Art. 18(2)
# still allows processing needed for legal claims and legal duties.
_OBJECTION_EXEMPT: Final = frozenset({"legal_obligation"})

_ContextKey = tuple[str, tuple[str, ...], str, str, str | None]


@dataclass(frozen=True, slots=True)
class _Context:
    """Everything about a request that does not depend on the field."""

    unknown: tuple[Reason, ...]
    requested: str  # the purpose asked for; reasons name it, not its covering declaration
    purpose: PurposeSpec | None
    step3: tuple[Reason, ...]
    principal_roles: tuple[RoleSpec, ...]  # active roles granted the purpose and the action
    recipient_roles: tuple[RoleSpec, ...] | None  # None: the asker keeps the result
    recipient: str | None
    external_parties: tuple[str, ...]
    deny: tuple[DenyRule, ...]
    limit: int | None


@dataclass(frozen=True, slots=True)
class _Table:
    unknown: tuple[Reason, ...]
    fields: dict[str, FieldDecision]
    limit: int | None


def best_view(roles: Sequence[RoleSpec], category: str) -> View | None:
    """The most revealing view any role gives; within a role the most specific entry wins."""
    best: View | None = None
    for role in roles:
        entry, depth = None, -1
        for key, setting in role.views.items():
            if covers(key, category) and key.count(".") > depth:
                entry, depth = setting, key.count(".")
        if (
            entry is not None
            and entry != "none"
            and (best is None or VIEW_RANK[entry] > VIEW_RANK[best])
        ):
            best = entry
    return best


def related(a: str, b: str) -> bool:
    """Keys on one branch of the hierarchy: one covers the other."""
    return covers(a, b) or covers(b, a)


def compatible(purpose: str, spec: PurposeSpec, collected_for: Sequence[str]) -> bool:
    """Within a collection purpose, or declared compatible with one (Art. 6(4))."""
    return any(covers(k, purpose) for k in collected_for) or any(
        covers(c, k) for c in spec.compatible_with for k in collected_for
    )


class PolicyEngine:
    """A compiled policy.  ``decide`` returns; ``require`` raises ``AccessDenied``."""

    def __init__(
        self,
        policy: Policy,
        catalog: FieldCatalog | None = None,
        taxonomy: Taxonomy | None = None,
        *,
        precompute: bool = True,
    ) -> None:
        self.policy = policy
        self.taxonomy = taxonomy if taxonomy is not None else Taxonomy.load()
        self.catalog = catalog if catalog is not None else load_fields(self.taxonomy)
        self._tables: dict[_ContextKey, _Table] = {}
        self._cache: dict[Request, Decision] = {}
        self._resolved: dict[tuple[Request, tuple[str | None, ...]], Decision] = {}
        if precompute:
            for principal in policy.principals:
                for purpose in policy.purposes:
                    for action in ACTIONS:
                        self._table((principal, (), purpose, action, None))

    # -- public -----------------------------------------------------------------------

    def decide(self, request: Request, facts: CustomerFacts | None = None) -> Decision:
        """Decide ``request``; with ``facts``, for that one customer (conditions resolved)."""
        decision = self._cache.get(request)
        if decision is None:
            decision = self._decide(request)
        if facts is None or decision.effect in ("allow", "deny"):
            return decision
        return self._resolve(decision, facts)

    def require(
        self, request: Request, facts: CustomerFacts | None = None, *, partial: bool = False
    ) -> Decision:
        """Like ``decide``, but raises ``AccessDenied(decision)`` unless it allows.

        ``partial=True`` accepts an answer in which some fields are refused.
        """
        decision = self.decide(request, facts)
        if decision.allowed or (partial and decision.effect == "partial"):
            return decision
        raise AccessDenied(
            decision,
            N_("Refused by policy for purpose '%(purpose)s': %(codes)s."),
            purpose=request.purpose,
            codes=", ".join(sorted(decision.codes)),
        )

    # -- compilation ----------------------------------------------------------------

    def _decide(self, request: Request) -> Decision:
        if request.customers < 0:
            raise InvalidInput(N_("The number of customers cannot be negative."))
        recipient = request.recipient if request.recipient != request.principal else None
        table = self._table(
            (request.principal, request.roles, request.purpose, request.action, recipient)
        )
        fields = tuple(
            table.fields.get(name) or self._unknown_field(name, table.unknown)
            for name in request.fields
        )
        request_reasons: tuple[Reason, ...] = ()
        if (
            table.limit is not None
            and request.customers > table.limit
            and not request.approved
            and any(f.allowed for f in fields)
        ):
            request_reasons = (
                reason("approval_required", count=str(request.customers), limit=str(table.limit)),
            )
            # Deny overrides allow: no field stays allowed under a request-level denial.
            fields = tuple(
                FieldDecision(f.field, False, None, request_reasons, None) if f.allowed else f
                for f in fields
            )
        decision = Decision(
            request, effect_of(fields, request_reasons), fields, request_reasons, self.policy.label
        )
        if len(self._cache) >= CACHE_LIMIT:
            self._cache.clear()
        self._cache[request] = decision
        return decision

    @staticmethod
    def _unknown_field(name: str, unknown: tuple[Reason, ...]) -> FieldDecision:
        return FieldDecision(
            name, False, None, (*unknown, reason("unknown_field", field=name)), None
        )

    def _table(self, key: _ContextKey) -> _Table:
        table = self._tables.get(key)
        if table is None:
            context = self._context(*key)
            fields = {
                definition.name: self._field(context, definition) for definition in self.catalog
            }
            table = _Table(context.unknown, fields, context.limit)
            if len(self._tables) >= CACHE_LIMIT:
                self._tables.clear()
            self._tables[key] = table
        return table

    def _context(
        self,
        principal: str,
        roles: tuple[str, ...],
        purpose: str,
        action: str,
        recipient: str | None,
    ) -> _Context:
        policy = self.policy
        unknown: list[Reason] = []
        spec = policy.principals.get(principal)
        if spec is None:
            unknown.append(reason("unknown_principal", principal=principal))
        for role in roles:
            if role not in policy.roles or (spec is not None and role not in spec.roles):
                unknown.append(reason("unknown_role", role=role))
        declared = policy.declared_purpose(purpose) if self.taxonomy.has_use(purpose) else None
        if declared is None:
            unknown.append(reason("unknown_purpose", purpose=purpose))
        if action not in ACTIONS:
            unknown.append(reason("unknown_action", action=action))
        recipient_role_names: tuple[str, ...] | None = None
        parties: set[str] = set()
        if spec is not None and not spec.internal and spec.organisation is not None:
            parties.add(spec.organisation)
        if recipient is not None:
            if recipient in policy.principals:
                other = policy.principals[recipient]
                recipient_role_names = other.roles
                if not other.internal and other.organisation is not None:
                    parties.add(other.organisation)
            elif recipient in policy.recipients:
                recipient_role_names = policy.recipients[recipient].roles
                parties.add(recipient)
            else:
                unknown.append(reason("unknown_recipient", recipient=recipient))
        if unknown or spec is None or declared is None:
            return _Context(tuple(unknown), purpose, None, (), (), None, recipient, (), (), None)

        active = [policy.roles[name] for name in (roles or spec.roles)]
        granted = [r for r in active if any(covers(g, purpose) for g in r.purposes)]
        acting = tuple(r for r in granted if action in r.actions)
        step3: list[Reason] = []
        if not granted:
            step3.append(reason("not_authorised", purpose=purpose))
        elif not acting:
            step3.append(reason("action_not_authorised", purpose=purpose, action=action))
        recipient_roles: tuple[RoleSpec, ...] | None = None
        if recipient_role_names is not None:
            recipient_roles = tuple(
                policy.roles[name]
                for name in recipient_role_names
                if any(covers(g, purpose) for g in policy.roles[name].purposes)
            )
            if not recipient_roles:
                step3.append(
                    reason("recipient_not_authorised", recipient=str(recipient), purpose=purpose)
                )
        for party in sorted(parties):
            organisation = policy.recipients.get(party)
            if organisation is not None and organisation.transfer_needs_tool:
                step3.append(
                    reason(
                        "transfer_mechanism_missing",
                        recipient=party,
                        country=str(organisation.country),
                    )
                )
        role_names = {r.name for r in active}
        deny = tuple(
            rule
            for rule in policy.deny
            if (not rule.principals or principal in rule.principals)
            and (not rule.roles or not role_names.isdisjoint(rule.roles))
            and (not rule.purposes or any(related(p, purpose) for p in rule.purposes))
            and (not rule.actions or action in rule.actions)
            and (
                not rule.recipients
                or (recipient is not None and recipient in rule.recipients)
                or not parties.isdisjoint(rule.recipients)
            )
        )
        limit = max((r.max_customers for r in acting), default=None)
        return _Context(
            (),
            purpose,
            declared,
            tuple(step3),
            acting,
            recipient_roles,
            recipient,
            tuple(
                sorted(
                    p
                    for p in parties
                    if p not in policy.recipients
                    or policy.recipients[p].relationship == "third_party"
                )
            ),
            deny,
            limit,
        )

    def _field(self, context: _Context, definition: FieldDefinition) -> FieldDecision:
        name, category = definition.name, definition.category
        # Step 1: unknown principal, role, purpose, action or recipient.
        if context.unknown or context.purpose is None:
            return FieldDecision(name, False, None, context.unknown, None)
        purpose = context.purpose
        requested = context.requested
        # Explicit deny rules: deny overrides allow, public fields included.
        hits = [
            reason("denied_by_rule", rule_name=rule.name)
            for rule in context.deny
            if not rule.categories or any(related(c, category) for c in rule.categories)
        ]
        if hits:
            return FieldDecision(name, False, None, tuple(hits), None)
        consent_to: str | None = None
        consent_reason: Reason | None = None
        share_with: tuple[str, ...] = ()
        view: View | None = "plain"
        # Step 2: only fields verified public skip steps 3-6 (R5).
        if definition.classification != "public":
            # Step 3: authorised -- the asker and an internal or external recipient (R3).
            if context.step3:
                return FieldDecision(name, False, None, context.step3, None)
            # Step 4: need to know -- the purpose needs the category, and a role covers it.
            if not any(covers(need, category) for need in purpose.needs):
                return FieldDecision(
                    name,
                    False,
                    None,
                    (reason("no_business_need", purpose=requested, field=name, category=category),),
                    None,
                )
            view = best_view(context.principal_roles, category)
            step4: list[Reason] = []
            if view is None:
                step4.append(reason("no_view", purpose=requested, field=name, category=category))
            if context.recipient_roles is not None:
                theirs = best_view(context.recipient_roles, category)
                if theirs is None:
                    step4.append(
                        reason(
                            "recipient_no_business_need",
                            recipient=str(context.recipient),
                            purpose=requested,
                            field=name,
                            category=category,
                        )
                    )
                elif view is not None and VIEW_RANK[theirs] < VIEW_RANK[view]:
                    view = theirs  # step 8: a hand-over gets the lesser of the two views
            if step4:
                return FieldDecision(name, False, None, tuple(step4), None)
            # Step 5: purpose limitation; consent-based purposes always need consent.
            if not compatible(requested, purpose, definition.collected_for):
                consent_to = requested
                consent_reason = reason(
                    "consent_required",
                    purpose=requested,
                    field=name,
                    collected=", ".join(definition.collected_for),
                )
            elif purpose.basis == "consent":
                consent_to = requested
                consent_reason = reason(
                    "consent_required",
                    message=MESSAGES["consent_basis"],
                    purpose=requested,
                    field=name,
                )
            # Step 6: anything leaving the company to a third party needs consent to that
            # sharing (R4); a processor under an Art. 28 contract or a recipient the law
            # requires is no third party (their relationship is in the policy).
            share_with = context.external_parties
        # Step 7: objection (Art. 21) and restriction (Art. 18) exclude the customer.
        exempt = purpose.basis in _OBJECTION_EXEMPT
        condition = Condition(
            consent_to, share_with, None if exempt else requested, not exempt, consent_reason
        )
        if condition.is_always:
            return FieldDecision(name, True, view, (), ALWAYS)
        return FieldDecision(name, True, view, condition.reasons(), condition)

    # -- one customer ---------------------------------------------------------------

    def _resolve(self, decision: Decision, facts: CustomerFacts) -> Decision:
        failures = tuple(
            f.condition.first_failure(facts) if f.condition is not None and f.allowed else None
            for f in decision.fields
        )
        key = (decision.request, tuple(f.code if f else None for f in failures))
        resolved = self._resolved.get(key)
        if resolved is not None:
            return resolved
        fields = tuple(
            FieldDecision(f.field, False, None, (failure,), None)
            if failure is not None
            else FieldDecision(f.field, True, f.view, (), ALWAYS)
            if f.allowed
            else f
            for f, failure in zip(decision.fields, failures, strict=True)
        )
        resolved = Decision(
            decision.request,
            effect_of(fields, decision.reasons),
            fields,
            decision.reasons,
            decision.policy,
        )
        if len(self._resolved) >= CACHE_LIMIT:
            self._resolved.clear()
        self._resolved[key] = resolved
        return resolved


def compile_policy(
    policy: Policy, catalog: FieldCatalog | None = None, taxonomy: Taxonomy | None = None
) -> PolicyEngine:
    """Compile a validated policy against a field catalog (default: the shipped fields)."""
    return PolicyEngine(policy, catalog, taxonomy)


def load_engine(
    path: Path | None = None, catalog: FieldCatalog | None = None, taxonomy: Taxonomy | None = None
) -> PolicyEngine:
    """Load, validate and compile a policy file or directory (default: the example)."""
    taxonomy = taxonomy if taxonomy is not None else Taxonomy.load()
    return PolicyEngine(load_policy(path, taxonomy), catalog, taxonomy)
