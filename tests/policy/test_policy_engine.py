"""The engine on the example policy: S1, hierarchy, conditions, require, caching."""

from __future__ import annotations

from dataclasses import replace

import pytest

from privault.catalog.fields import FieldCatalog
from privault.catalog.taxonomy import Taxonomy
from privault.errors import AccessDenied, InvalidInput
from privault.policy import (
    ALWAYS,
    EXAMPLE_TESTS,
    Condition,
    CustomerFacts,
    Policy,
    PolicyEngine,
    Request,
    compile_policy,
    explain,
    run_cases,
)

MARKETING = "marketing.communications.email"
SUPPORT = "essential.service.operations.support"


def test_shipped_test_cases_all_pass(engine: PolicyEngine) -> None:
    results = run_cases(engine, EXAMPLE_TESTS)
    assert len(results) >= 25
    assert [r.case.name for r in results if not r.passed] == []
    assert sum(r.case.name.startswith("S1") for r in results) >= 6


def test_s1_marketing_colleague_gets_a_consent_condition(engine: PolicyEngine) -> None:
    decision = engine.decide(
        Request("ayesha.khan", MARKETING, ("email",), "export", customers=12_000)
    )
    assert decision.effect == "conditional"
    email = decision.field("email")
    assert email.view == "plain"
    assert email.condition == Condition(MARKETING, (), MARKETING, True)
    assert email.condition is not None
    assert email.condition.consent_keys == (MARKETING, "marketing.communications", "marketing")
    assert decision.rules == {"R6"}


@pytest.mark.parametrize(
    ("principal", "recipient", "purpose", "codes"),
    [
        ("tomas.kral", None, MARKETING, {"not_authorised"}),
        ("jana.dvorakova", None, MARKETING, {"not_authorised"}),
        ("jana.dvorakova", "tomas.kral", SUPPORT, {"recipient_not_authorised"}),
    ],
)
def test_s1_refusals(
    engine: PolicyEngine, principal: str, recipient: str | None, purpose: str, codes: set[str]
) -> None:
    decision = engine.decide(Request(principal, purpose, ("email",), "share", recipient))
    assert decision.effect == "deny"
    assert decision.codes == codes
    assert decision.rules == {"R3"}
    with pytest.raises(AccessDenied) as caught:
        engine.require(decision.request)
    assert caught.value.decision is decision


def test_s1_explanation_names_rule_and_way_forward(engine: PolicyEngine) -> None:
    decision = engine.decide(Request("ayesha.khan", MARKETING, ("email",), "export"))
    english = explain(decision, "en").text()
    assert "Rule R6" in english and "preference centre" in english
    assert "'essential.service'" in english  # what the addresses were given for
    czech = explain(decision, "cs")
    assert "Pravidlo R6" in czech.text() and "centru předvoleb" in czech.text()
    urdu = explain(decision, "ur")
    assert urdu.direction == "rtl"
    assert "اصول R6" in urdu.text() and "ترجیحات کے مرکز" in urdu.text()
    assert "۔" in urdu.summary


def test_one_customer_who_agreed_is_allowed_and_others_are_not(engine: PolicyEngine) -> None:
    request = Request("ayesha.khan", MARKETING, ("email", "first_name"), "export")
    agreed = engine.decide(request, CustomerFacts(consents=frozenset({"marketing"})))
    assert agreed.effect == "allow"
    assert agreed.field("email").condition is ALWAYS
    narrower = engine.decide(
        Request("ayesha.khan", "marketing.communications", ("email",), "export"),
        CustomerFacts(consents=frozenset({MARKETING})),
    )
    assert narrower.codes == {"consent_required"}  # consent to a narrower purpose is not enough
    objected = engine.decide(
        request,
        CustomerFacts(consents=frozenset({"marketing"}), objections=frozenset({"marketing"})),
    )
    assert objected.effect == "deny" and objected.codes == {"objected"}
    restricted = engine.decide(
        request, CustomerFacts(consents=frozenset({MARKETING}), restricted=True)
    )
    assert restricted.codes == {"restricted"}


def test_condition_holds_agrees_with_single_customer_decision(engine: PolicyEngine) -> None:
    request = Request("parcelfast-api", "essential.service.operations", ("street", "phone"))
    bulk = engine.decide(request)
    condition = bulk.field("street").condition
    assert condition is not None and condition.share_with == ("parcelfast",)
    for facts in (
        CustomerFacts(),
        CustomerFacts(sharing=frozenset({"parcelfast"})),
        CustomerFacts(sharing=frozenset({"parcelfast"}), objections=frozenset({"essential"})),
        CustomerFacts(sharing=frozenset({"parcelfast"}), restricted=True),
    ):
        assert condition.holds(facts) == engine.decide(request, facts).field("street").allowed


def test_exclusions_are_counted_by_first_reason(engine: PolicyEngine) -> None:
    decision = engine.decide(Request("ayesha.khan", MARKETING, ("email",), "export"))
    people = [
        CustomerFacts(consents=frozenset({MARKETING})),
        CustomerFacts(),
        CustomerFacts(),
        CustomerFacts(consents=frozenset({"marketing"}), restricted=True),
    ]
    assert decision.exclusions(people) == {"consent_required": 2, "restricted": 1}


def test_grants_and_views_are_hierarchical(engine: PolicyEngine) -> None:
    # The marketing role is granted "marketing": that covers e-mail and text-message marketing.
    sms = engine.decide(Request("ayesha.khan", "marketing.communications.sms", ("phone", "email")))
    assert sms.field("phone").allowed
    assert sms.field("email").reasons[0].code == "no_business_need"
    # Compliance's view on "user" covers every field.
    everything = engine.decide(
        Request("sana.malik", "essential.legal_obligation", ("national_id", "iban"))
    )
    assert everything.views == {"national_id": "plain", "iban": "plain"}


def test_public_fields_skip_need_to_know(
    policy: Policy, public_catalog: FieldCatalog, taxonomy: Taxonomy
) -> None:
    engine = compile_policy(policy, public_catalog, taxonomy)
    decision = engine.decide(Request("tomas.kral", SUPPORT, ("company", "email")))
    assert decision.field("company").allowed and decision.field("company").view == "plain"
    assert decision.field("email").reasons[0].code == "not_authorised"
    # ...but explicit deny rules still win.
    shared = engine.decide(
        Request("analytics-pipeline", "analytics.reporting", ("country",), "delete")
    )
    assert shared.codes == {"denied_by_rule"}


def test_handover_gets_the_lesser_view(engine: PolicyEngine) -> None:
    decision = engine.decide(
        Request("petr.svoboda", "essential.service.operations", ("phone",), "share", "parcelfast")
    )
    # billing is not granted operations: refused; customer service is, and has phone in plain
    assert decision.codes == {"not_authorised"}
    own = engine.decide(Request("parcelfast-api", "essential.service.operations", ("phone",)))
    assert own.field("phone").view == "masked"


def test_role_scoping_narrows(engine: PolicyEngine) -> None:
    decision = engine.decide(
        Request("jana.dvorakova", SUPPORT, ("email",), roles=("customer_service",))
    )
    assert decision.field("email").allowed
    foreign = engine.decide(Request("jana.dvorakova", SUPPORT, ("email",), roles=("compliance",)))
    assert foreign.codes == {"unknown_role"}


def test_approval_threshold(engine: PolicyEngine) -> None:
    small = engine.decide(Request("jana.dvorakova", SUPPORT, ("email",), "export", customers=25))
    large = engine.decide(Request("jana.dvorakova", SUPPORT, ("email",), "export", customers=26))
    approved = replace(large.request, approved=True)
    assert "approval_required" not in small.codes
    assert large.effect == "deny" and "approval_required" in large.codes
    assert engine.decide(approved).effect == "conditional"


def test_decisions_are_cached_and_shared(engine: PolicyEngine) -> None:
    first = engine.decide(Request("jana.dvorakova", SUPPORT, ("email", "phone")))
    second = engine.decide(Request("jana.dvorakova", SUPPORT, ("email", "phone")))
    assert first is second


def test_require_accepts_partial_only_when_asked(engine: PolicyEngine) -> None:
    request = Request("jana.dvorakova", SUPPORT, ("email", "iban"))
    with pytest.raises(AccessDenied):
        engine.require(request)
    assert engine.require(request, partial=True).effect == "partial"


def test_negative_customer_count_is_invalid(engine: PolicyEngine) -> None:
    with pytest.raises(InvalidInput):
        engine.decide(Request("jana.dvorakova", SUPPORT, ("email",), customers=-1))


NAME_PARAMS = {
    "principal",
    "role",
    "purpose",
    "action",
    "field",
    "category",
    "recipient",
    "collected",
    "rule_name",
    "count",
    "limit",
}


def test_reasons_carry_names_never_values(engine: PolicyEngine) -> None:
    """Reason parameters are drawn from a closed set of name-like keys (never a value)."""
    requests = [
        Request("ayesha.khan", MARKETING, ("email", "shoe_size"), "export", "brightmail", 10**6),
        Request("mallory", "no.such.purpose", ("email",), "launch", "stranger", roles=("x",)),
        Request("analytics-pipeline", "analytics.reporting", ("country", "email"), "delete"),
    ]
    seen: set[str] = set()
    for request in requests:
        for item in engine.decide(request).all_reasons():
            seen |= {key for key, _ in item.params}
            assert item.render("en") != item.message or not item.params
    assert seen <= NAME_PARAMS
    assert {"principal", "purpose", "field", "recipient", "role", "action"} <= seen
