"""Hypothesis properties of the engine: the promises that must hold for any request."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from privault.catalog.fields import FieldCatalog, load_fields
from privault.catalog.taxonomy import Taxonomy, covers
from privault.policy import (
    ACTIONS,
    VIEWS,
    CustomerFacts,
    Decision,
    DenyRule,
    Policy,
    PolicyEngine,
    Request,
    compile_policy,
    load_policy,
)

TAXONOMY = Taxonomy.load()
POLICY = load_policy(None, TAXONOMY)
CATALOG = load_fields(TAXONOMY)
ENGINE = compile_policy(POLICY, CATALOG, TAXONOMY)
FIELDS = list(CATALOG.names)
PURPOSES = sorted({*POLICY.purposes, "marketing", "marketing.communications.email"})
PRINCIPALS = sorted(POLICY.principals)
RECIPIENTS: list[str | None] = [None, *sorted(POLICY.principals), *sorted(POLICY.recipients)]
CATEGORIES = sorted({f.category for f in CATALOG} | {"user", "user.contact", "user.financial"})
RANK = {"tokenized": 1, "masked": 2, "plain": 3}
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

requests = st.builds(
    Request,
    principal=st.sampled_from(PRINCIPALS),
    purpose=st.sampled_from(PURPOSES),
    fields=st.lists(st.sampled_from(FIELDS), min_size=1, max_size=4, unique=True).map(tuple),
    action=st.sampled_from(ACTIONS),
    recipient=st.sampled_from(RECIPIENTS),
    customers=st.integers(min_value=0, max_value=200_000),
)
junk = st.text(alphabet="abcdefghijklmnopqrstuvwxyz._-", min_size=1, max_size=20)


def allowed(decision: Decision) -> dict[str, str]:
    return {f.field: str(f.view) for f in decision.fields if f.allowed}


@SETTINGS
@given(requests, st.sampled_from(["principal", "purpose", "field", "recipient", "role"]), junk)
def test_unknown_anything_is_denied(request: Request, what: str, name: str) -> None:
    known = {*POLICY.principals, *POLICY.recipients, *POLICY.roles, *FIELDS, *TAXONOMY.uses}
    if name in known:
        return
    changed = {
        "principal": replace(request, principal=name),
        "purpose": replace(request, purpose=name),
        "field": replace(request, fields=(name,)),
        "recipient": replace(request, recipient=name),
        "role": replace(request, roles=(name,)),
    }[what]
    decision = ENGINE.decide(changed)
    assert decision.effect == "deny"
    assert any(code.startswith("unknown_") for code in decision.codes)
    assert all(f.view is None for f in decision.fields)


@SETTINGS
@given(
    requests,
    # Third parties only: a processor (Art. 28) or a recipient the law requires needs no
    # sharing consent (tests/scan/test_egress_gate.py covers those).
    st.sampled_from(
        [
            name
            for name, spec in sorted(POLICY.recipients.items())
            if spec.relationship == "third_party"
        ]
        + ["parcelfast-api"]
    ),
    st.frozensets(st.sampled_from(PURPOSES)),
    st.booleans(),
)
def test_external_recipient_without_sharing_consent_is_never_allowed(
    request: Request, recipient: str, consents: frozenset[str], as_asker: bool
) -> None:
    request = (
        replace(request, principal="parcelfast-api")
        if as_asker
        else replace(request, recipient=recipient)
    )
    facts = CustomerFacts(consents=consents)  # every consent but no sharing consent
    decision = ENGINE.decide(request, facts)
    assert not any(f.allowed for f in decision.fields)  # all shipped fields are confidential


deny_rules = st.builds(
    DenyRule,
    name=st.just("added"),
    principals=st.lists(st.sampled_from(PRINCIPALS), max_size=2).map(tuple),
    roles=st.lists(st.sampled_from(sorted(POLICY.roles)), max_size=2).map(tuple),
    purposes=st.lists(st.sampled_from(PURPOSES), max_size=2).map(tuple),
    categories=st.lists(st.sampled_from(CATEGORIES), max_size=2).map(tuple),
    actions=st.lists(st.sampled_from(ACTIONS), max_size=2).map(tuple),
    recipients=st.lists(st.sampled_from(sorted(POLICY.recipients)), max_size=1).map(tuple),
)


@SETTINGS
@given(deny_rules, st.lists(requests, min_size=1, max_size=8))
def test_adding_a_deny_rule_never_turns_deny_into_allow(
    rule: DenyRule, batch: list[Request]
) -> None:
    stricter = PolicyEngine(
        replace(POLICY, deny=(*POLICY.deny, rule)), CATALOG, TAXONOMY, precompute=False
    )
    for request in batch:
        before, after = allowed(ENGINE.decide(request)), allowed(stricter.decide(request))
        assert set(after) <= set(before)
        assert all(after[f] == before[f] for f in after)
    everything = Request(
        (rule.principals or PRINCIPALS)[0],
        (rule.purposes or PURPOSES)[0],
        tuple(FIELDS),
        (rule.actions or ACTIONS)[0],
    )
    assert len(allowed(stricter.decide(everything))) <= len(allowed(ENGINE.decide(everything)))


@SETTINGS
@given(st.sampled_from(sorted(POLICY.roles)), st.data(), st.lists(requests, min_size=1, max_size=8))
def test_removing_a_grant_never_widens_access(
    role: str, data: st.DataObject, batch: list[Request]
) -> None:
    spec = POLICY.roles[role]
    dropped = data.draw(st.sampled_from(spec.purposes))
    narrower_roles = dict(POLICY.roles)
    narrower_roles[role] = replace(spec, purposes=tuple(p for p in spec.purposes if p != dropped))
    narrower = PolicyEngine(
        replace(POLICY, roles=narrower_roles), CATALOG, TAXONOMY, precompute=False
    )
    for request in batch:
        wide, narrow = ENGINE.decide(request), narrower.decide(request)
        before, after = allowed(wide), allowed(narrow)
        assert set(after) <= set(before)
        assert all(RANK[after[f]] <= RANK[before[f]] for f in after)
        if not wide.allowed:
            assert not narrow.allowed


@SETTINGS
@given(requests, st.sets(st.sampled_from(FIELDS)))
def test_only_public_fields_are_readable_without_need_to_know(
    request: Request, public: set[str]
) -> None:
    from datetime import UTC, datetime

    from privault.catalog.fields import Verification

    proof = Verification("public", "dpo", datetime(2026, 11, 1, tzinfo=UTC), "checked")
    catalog: FieldCatalog = CATALOG.with_verifications({name: proof for name in public})
    engine = PolicyEngine(POLICY, catalog, TAXONOMY, precompute=False)
    decision = engine.decide(request)
    principal = POLICY.principals[request.principal]
    spec = POLICY.declared_purpose(request.purpose)
    if spec is None:  # undeclared purpose: unknown, nothing at all
        assert not allowed(decision)
        return
    granted = any(
        covers(g, request.purpose) for r in principal.roles for g in POLICY.roles[r].purposes
    )
    for item in decision.fields:
        if not item.allowed:
            continue
        category = catalog.fields[item.field].category
        needed = any(covers(n, category) for n in spec.needs)
        assert item.field in public or (granted and needed)
        assert item.view in VIEWS


def test_strategies_reach_allowed_answers() -> None:
    """Guard against vacuous properties: the request space includes allowed fields."""
    request = Request("ayesha.khan", "marketing.communications.email", ("email",), "export")
    assert allowed(ENGINE.decide(request)) == {"email": "plain"}
    assert isinstance(POLICY, Policy)
