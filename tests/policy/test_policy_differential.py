"""The engine against a deliberately naive evaluator written from DESIGN.md §4.

The naive evaluator walks the steps for one field at a time, straight from the text,
with no tables and no caching, and shares no code with the engine (it even has its
own hierarchy test).  Every combination of the example policy's principals x roles x
purposes x actions x fields x recipient kinds x consent states must agree.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest

from privault.catalog.fields import FieldCatalog
from privault.catalog.taxonomy import Taxonomy
from privault.policy import CustomerFacts, Decision, Policy, Request, compile_policy

ACTIONS = ("read", "export", "share", "write", "delete")
RANK = {"tokenized": 1, "masked": 2, "plain": 3}


def under(parent: str, key: str) -> bool:
    return key == parent or key.startswith(parent + ".")


def lineage(key: str) -> list[str]:
    parts = key.split(".")
    return [".".join(parts[:n]) for n in range(len(parts), 0, -1)]


@dataclass(frozen=True)
class Naive:
    """Per field: ("deny", codes) or ("allow", view, condition codes); plus request codes."""

    fields: dict[str, tuple[object, ...]]
    request_codes: frozenset[str]


def role_view(role_views: dict[str, str], category: str) -> str | None:
    matches = [k for k in role_views if under(k, category)]
    if not matches:
        return None
    setting = role_views[max(matches, key=lambda k: k.count("."))]
    return None if setting == "none" else setting


def naive(policy: Policy, catalog: FieldCatalog, taxonomy: Taxonomy, req: Request) -> Naive:
    purpose = req.purpose
    principal = policy.principals.get(req.principal)
    unknown: set[str] = set()
    if principal is None:
        unknown.add("unknown_principal")
    for role in req.roles:
        if role not in policy.roles or (principal is not None and role not in principal.roles):
            unknown.add("unknown_role")
    spec = None
    if taxonomy.has_use(purpose):
        for key in lineage(purpose):
            if key in policy.purposes:
                spec = policy.purposes[key]
                break
    if spec is None:
        unknown.add("unknown_purpose")
    if req.action not in ACTIONS:
        unknown.add("unknown_action")
    recipient = None if req.recipient in (None, req.principal) else req.recipient
    outside: set[str] = set()
    if principal is not None and not principal.internal:
        outside.add(str(principal.organisation))
    recipient_roles: list[str] | None = None
    if recipient is not None:
        if recipient in policy.principals:
            recipient_roles = list(policy.principals[recipient].roles)
            if not policy.principals[recipient].internal:
                outside.add(str(policy.principals[recipient].organisation))
        elif recipient in policy.recipients:
            recipient_roles = list(policy.recipients[recipient].roles)
            outside.add(recipient)
        else:
            unknown.add("unknown_recipient")

    results: dict[str, tuple[object, ...]] = {}
    allowed_roles: list[str] = []
    for name in req.fields:
        definition = catalog.fields.get(name)
        # 1. known?
        if unknown or definition is None:
            results[name] = (
                "deny",
                frozenset(unknown | ({"unknown_field"} if definition is None else set())),
            )
            continue
        assert principal is not None and spec is not None
        active = list(req.roles) or list(principal.roles)
        category = definition.category
        # explicit deny rules
        denied = False
        for rule in policy.deny:
            if rule.principals and req.principal not in rule.principals:
                continue
            if rule.roles and not set(rule.roles) & set(active):
                continue
            if rule.purposes and not any(
                under(p, purpose) or under(purpose, p) for p in rule.purposes
            ):
                continue
            if rule.actions and req.action not in rule.actions:
                continue
            if (
                rule.recipients
                and recipient not in rule.recipients
                and not outside & set(rule.recipients)
            ):
                continue
            if rule.categories and not any(
                under(c, category) or under(category, c) for c in rule.categories
            ):
                continue
            denied = True
        if denied:
            results[name] = ("deny", frozenset({"denied_by_rule"}))
            continue
        conditions: set[str] = set()
        if definition.classification == "public":
            view: str | None = "plain"
        else:
            # 3. authorised (asker, and the recipient if any)
            granting = [
                r for r in active if any(under(g, purpose) for g in policy.roles[r].purposes)
            ]
            acting = [r for r in granting if req.action in policy.roles[r].actions]
            step3: set[str] = set()
            if not granting:
                step3.add("not_authorised")
            elif not acting:
                step3.add("action_not_authorised")
            for party in outside:
                spec_of = policy.recipients.get(party)
                if spec_of is not None and spec_of.transfer_needs_tool:
                    step3.add("transfer_mechanism_missing")
            their_roles: list[str] = []
            if recipient_roles is not None:
                their_roles = [
                    r
                    for r in recipient_roles
                    if any(under(g, purpose) for g in policy.roles[r].purposes)
                ]
                if not their_roles:
                    step3.add("recipient_not_authorised")
            if step3:
                results[name] = ("deny", frozenset(step3))
                continue
            # 4. need to know
            if not any(under(n, category) for n in spec.needs):
                results[name] = ("deny", frozenset({"no_business_need"}))
                continue
            views = [v for r in acting if (v := role_view(dict(policy.roles[r].views), category))]
            view = max(views, key=RANK.__getitem__) if views else None
            step4: set[str] = set()
            if view is None:
                step4.add("no_view")
            if recipient_roles is not None:
                theirs = [
                    v
                    for r in their_roles
                    if (v := role_view(dict(policy.roles[r].views), category))
                ]
                if not theirs:
                    step4.add("recipient_no_business_need")
                elif view is not None:
                    view = min(view, max(theirs, key=RANK.__getitem__), key=RANK.__getitem__)
            if step4:
                results[name] = ("deny", frozenset(step4))
                continue
            # 5. purpose limitation
            within = any(under(k, purpose) for k in definition.collected_for)
            compatible = any(
                under(c, k) for c in spec.compatible_with for k in definition.collected_for
            )
            if spec.basis == "consent" or not (within or compatible):
                conditions.add("consent_required")
            # 6. outside the company, to a third party (not a processor or legal recipient)
            if any(
                party not in policy.recipients
                or policy.recipients[party].relationship == "third_party"
                for party in outside
            ):
                conditions.add("sharing_consent_required")
        # 7. objection, restriction
        if spec.basis != "legal_obligation":
            conditions |= {"objected", "restricted"}
        allowed_roles = [
            r
            for r in (list(req.roles) or list(principal.roles))
            if any(under(g, purpose) for g in policy.roles[r].purposes)
            and req.action in policy.roles[r].actions
        ]
        results[name] = ("allow", view, frozenset(conditions))
    request_codes: set[str] = set()
    # 9. obligations
    if allowed_roles and any(r[0] == "allow" for r in results.values()):
        limit = max(policy.roles[r].max_customers for r in allowed_roles)
        if req.customers > limit and not req.approved:
            request_codes.add("approval_required")
            # deny overrides allow: under a request-level denial no field is allowed
            results = {
                name: ("deny", frozenset({"approval_required"})) if r[0] == "allow" else r
                for name, r in results.items()
            }
    return Naive(results, frozenset(request_codes))


def naive_for_customer(
    bulk: Naive, request: Request, policy: Policy, facts: CustomerFacts
) -> dict[str, tuple[object, ...]]:
    """Step 7 for one customer: the first failing clause excludes them."""
    purpose = request.purpose
    out: dict[str, tuple[object, ...]] = {}
    for name, result in bulk.fields.items():
        if result[0] == "deny":
            out[name] = result
            continue
        conditions = result[2]
        assert isinstance(conditions, frozenset)
        parties = {
            p
            for p in (
                [policy.principals[request.principal].organisation]
                + ([request.recipient] if request.recipient in policy.recipients else [])
                + (
                    [policy.principals[request.recipient].organisation]
                    if request.recipient is not None and request.recipient in policy.principals
                    else []
                )
            )
            if p
            and (p not in policy.recipients or policy.recipients[p].relationship == "third_party")
        }
        failure = None
        if "consent_required" in conditions and not any(
            k in facts.consents for k in lineage(purpose)
        ):
            failure = "consent_required"
        elif "sharing_consent_required" in conditions and not parties <= facts.sharing:
            failure = "sharing_consent_required"
        elif "objected" in conditions and any(
            under(o, purpose) or under(purpose, o) for o in facts.objections
        ):
            failure = "objected"
        elif "restricted" in conditions and facts.restricted:
            failure = "restricted"
        out[name] = ("deny", frozenset({failure})) if failure else ("allow", result[1], frozenset())
    return out


def engine_fields(decision: Decision) -> dict[str, tuple[object, ...]]:
    return {
        f.field: ("allow", f.view, frozenset(r.code for r in f.reasons))
        if f.allowed
        else ("deny", frozenset(r.code for r in f.reasons))
        for f in decision.fields
    }


def requests(policy: Policy, catalog: FieldCatalog) -> list[Request]:
    fields = (*catalog.names, "shoe_size")
    purposes = sorted({*policy.purposes, "marketing", "personalize", "no.such.purpose"})
    recipients: list[str | None] = [None, *policy.principals, *policy.recipients, "stranger"]
    principals = [*policy.principals, "mallory"]
    out = []
    for principal in principals:
        own = policy.principals[principal].roles if principal in policy.principals else ()
        for roles in [(), *((r,) for r in own if len(own) > 1), ("no_such_role",)]:
            for purpose, action, recipient in itertools.product(
                purposes, (*ACTIONS, "launch"), recipients
            ):
                customers = 30 if action == "export" else 1
                out.append(
                    Request(principal, purpose, fields, action, recipient, customers, False, roles)
                )
                if not roles and recipient in (None, "parcelfast", "tomas.kral"):
                    out.extend(
                        Request(principal, purpose, (name,), action, recipient, customers)
                        for name in catalog.names
                    )
    return out


FACTS = [
    CustomerFacts(frozenset(consents), frozenset(sharing), frozenset(objections), restricted)
    for consents, sharing, objections, restricted in itertools.product(
        [(), ("{P}",), ("{root}",), ("essential.service",)],
        [(), ("parcelfast", "brightmail")],
        [(), ("{P}",), ("{root}",), ("functional",)],
        [False, True],
    )
]


def concrete(facts: CustomerFacts, purpose: str) -> CustomerFacts:
    def fill(keys: frozenset[str]) -> frozenset[str]:
        return frozenset(
            k.replace("{P}", purpose).replace("{root}", purpose.split(".")[0]) for k in keys
        )

    return CustomerFacts(
        fill(facts.consents), facts.sharing, fill(facts.objections), facts.restricted
    )


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["confidential", "some_public"])
def test_engine_agrees_with_naive_evaluator(
    variant: str,
    policy: Policy,
    catalog: FieldCatalog,
    public_catalog: FieldCatalog,
    taxonomy: Taxonomy,
) -> None:
    fields = catalog if variant == "confidential" else public_catalog
    engine = compile_policy(policy, fields, taxonomy)
    checked = customers_checked = 0
    effects: set[str] = set()
    for request in requests(policy, fields):
        decision = engine.decide(request)
        expected = naive(policy, fields, taxonomy, request)
        assert engine_fields(decision) == expected.fields, request
        assert {r.code for r in decision.reasons} == expected.request_codes, request
        effects.add(decision.effect)
        checked += 1
        if decision.effect in ("conditional", "partial") and len(request.fields) > 1:
            for facts in FACTS:
                facts = concrete(facts, request.purpose)
                one = engine.decide(request, facts)
                assert engine_fields(one) == naive_for_customer(expected, request, policy, facts), (
                    request,
                    facts,
                )
                customers_checked += 1
    assert checked > 30_000
    assert customers_checked > 3_000
    assert effects == {"allow", "conditional", "partial", "deny"}
