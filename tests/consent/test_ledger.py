"""The ledger, the derived state, and the filters, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from privault.clock import FixedClock
from privault.consent.filters import CUSTOMERS, eligible_filter
from privault.consent.filters import eligible_ids as bulk_ids
from privault.consent.schemas import Notice
from privault.consent.service import ConsentService, add_months
from privault.customers.service import CustomerRef
from privault.errors import InvalidInput, NotFound, UnknownKey
from privault.runtime import Vault

from .conftest import draft

EMAIL = "marketing.communications.email"
SMS = "marketing.communications.sms"


def eligible_ids(vault: Vault, purpose: str, recipient: str | None = None) -> set[str]:
    """The filter in every form (both dialect strategies, and the bulk SELECT) agrees."""
    at = vault.clock.now()
    answers = []
    with vault.engine.connect() as connection:
        for bind in ("sqlite", "postgresql", vault.engine):
            if bind == "sqlite" and vault.engine.dialect.name != "sqlite":
                continue
            query = select(CUSTOMERS.c.id).where(
                eligible_filter(purpose, recipient, at=at, bind=bind)
            )
            answers.append({row[0] for row in connection.execute(query)})
        bulk = list(connection.execute(bulk_ids(purpose, recipient, at=at, bind=vault.engine)))
    assert len(bulk) == len({row[0] for row in bulk})  # each customer once
    answers.append({row[0] for row in bulk})
    assert all(answer == answers[0] for answer in answers)
    return answers[0]


def test_grant_withdraw_regrant_state_and_history(
    vault: Vault,
    consent: ConsentService,
    marketing_notice: Notice,
    make_customers: Callable[..., list[CustomerRef]],
    clock: FixedClock,
) -> None:
    (alice,) = make_customers(1)
    consent.grant(alice.id, "marketing", notice=marketing_notice, channel="web", actor="customer")
    assert eligible_ids(vault, EMAIL) == {alice.id}
    clock.advance(timedelta(minutes=1))
    consent.withdraw(alice.id, "marketing", channel="phone", actor="agent-7")
    assert eligible_ids(vault, EMAIL) == set()  # immediately
    clock.advance(timedelta(minutes=1))
    consent.grant(alice.id, "marketing", notice=marketing_notice, channel="paper", actor="agent-7")
    assert eligible_ids(vault, "marketing") == {alice.id}

    facts = consent.customer_consent_state(alice.id)
    assert facts.allows(EMAIL) and facts.has_consent("marketing")
    proof = consent.proof(alice.id)
    assert [e.action for e in proof.events] == ["grant", "withdraw", "grant"]
    assert [e.channel for e in proof.events] == ["web", "phone", "paper"]
    # The withdrawal records the notice of the grant it withdrew.
    assert all(e.notice is not None and e.notice.version == 1 for e in proof.events)
    assert all(len(e.evidence_hash) == 64 for e in proof.events)


def test_most_specific_decision_wins(
    vault: Vault, consent: ConsentService, make_customers: Callable[..., list[CustomerRef]]
) -> None:
    broad = consent.add_notice(draft("marketing", ("marketing",)), created_by="dpo")
    email = consent.add_notice(draft("email", (EMAIL,)), created_by="dpo")
    a, b = make_customers(2)
    consent.grant(a.id, "marketing", notice=broad, channel="web", actor="customer")
    consent.withdraw(a.id, EMAIL, notice=email, channel="web", actor="customer")
    consent.withdraw(b.id, "marketing", notice=broad, channel="web", actor="customer")
    consent.grant(b.id, EMAIL, notice=email, channel="web", actor="customer")
    assert eligible_ids(vault, SMS) == {a.id}
    assert eligible_ids(vault, EMAIL) == {b.id}
    assert eligible_ids(vault, "marketing") == {a.id}
    for ref in (a, b):
        facts = consent.customer_consent_state(ref.id)
        for purpose in (SMS, EMAIL, "marketing"):
            assert facts.allows(purpose) == (ref.id in eligible_ids(vault, purpose))


def test_objection_and_restriction_exclude_at_once(
    vault: Vault,
    consent: ConsentService,
    marketing_notice: Notice,
    make_customers: Callable[..., list[CustomerRef]],
) -> None:
    a, b, c = make_customers(3)
    for ref in (a, b, c):
        consent.grant(ref.id, "marketing", notice=marketing_notice, channel="web", actor="customer")
    consent.object(a.id, "marketing", channel="paper", actor="dpo", reason="Art. 21 letter")
    consent.restrict(b.id, channel="api", actor="dpo", reason="accuracy contested")
    assert eligible_ids(vault, EMAIL) == {c.id}
    counts = consent.count_exclusions(EMAIL)
    assert (counts.total, counts.eligible, counts.no_consent) == (3, 1, 0)
    assert (counts.objection, counts.restriction) == (1, 1)
    assert consent.customer_consent_state(a.id).objects_to(SMS)
    assert consent.customer_consent_state(b.id).restricted
    assert consent.count_eligible(EMAIL) == 1
    assert [i for batch in consent.iter_eligible_ids(EMAIL) for i in batch] == [c.id]
    consent.lift_restriction(b.id, actor="dpo")
    consent.lift_objection(a.id, "marketing", actor="dpo")
    assert eligible_ids(vault, EMAIL) == {a.id, b.id, c.id}


def test_expiry_uses_the_injected_clock(
    vault: Vault,
    consent: ConsentService,
    make_customers: Callable[..., list[CustomerRef]],
    clock: FixedClock,
) -> None:
    notice = consent.add_notice(draft("promo", (EMAIL,), expiry_months=12), created_by="dpo")
    (a,) = make_customers(1)
    consent.grant(a.id, EMAIL, notice=notice, channel="web", actor="customer")
    clock.advance(timedelta(days=364))
    assert eligible_ids(vault, EMAIL) == {a.id}
    clock.set(add_months(datetime(2026, 11, 22, 9, 0, tzinfo=UTC), 12))
    assert eligible_ids(vault, EMAIL) == set()
    assert not consent.customer_consent_state(a.id).allows(EMAIL)
    # An expired grant is no decision: the customer may be asked again.
    assert [r.id for r in consent.undecided(EMAIL)] == [a.id]


def test_sharing_is_per_recipient(
    vault: Vault, consent: ConsentService, make_customers: Callable[..., list[CustomerRef]]
) -> None:
    acme = consent.add_notice(
        draft("acme", ("third_party_sharing",), recipient="Acme s.r.o."), created_by="dpo"
    )
    (a,) = make_customers(1)
    with pytest.raises(InvalidInput):
        consent.grant(a.id, "third_party_sharing", notice=acme, channel="web", actor="customer")
    consent.grant(
        a.id,
        "third_party_sharing",
        recipient="Acme s.r.o.",
        notice=acme,
        channel="web",
        actor="customer",
    )
    assert eligible_ids(vault, "third_party_sharing", "Acme s.r.o.") == {a.id}
    assert eligible_ids(vault, "third_party_sharing", "Other Ltd") == set()
    assert consent.customer_consent_state(a.id).allows("third_party_sharing", "Acme s.r.o.")


def test_bad_input_is_a_clear_error(
    consent: ConsentService,
    marketing_notice: Notice,
    make_customers: Callable[..., list[CustomerRef]],
    clock: FixedClock,
) -> None:
    (a,) = make_customers(1)
    with pytest.raises(UnknownKey):
        consent.grant(a.id, "marketting", notice=marketing_notice, channel="web", actor="x")
    with pytest.raises(InvalidInput):
        consent.grant(a.id, "marketing", notice=marketing_notice, channel="fax", actor="x")
    with pytest.raises(InvalidInput):
        consent.grant(a.id, "marketing", notice=None, channel="web", actor="x")
    with pytest.raises(InvalidInput):
        consent.grant(a.id, "personalize", notice=marketing_notice, channel="web", actor="x")
    with pytest.raises(InvalidInput):
        consent.grant(
            a.id,
            "marketing",
            notice=marketing_notice,
            channel="web",
            actor="x",
            occurred_at=clock.now() + timedelta(days=1),
        )
    with pytest.raises(NotFound):
        consent.grant("nope", "marketing", notice=marketing_notice, channel="web", actor="x")
    assert consent.resolve_customer(a.public_id).id == a.id


def test_notice_versions(consent: ConsentService) -> None:
    first = consent.add_notice(draft("news", (EMAIL,)), created_by="dpo")
    second = consent.add_notice(draft("news", (EMAIL,)), created_by="dpo")
    assert (first.version, second.version) == (1, 2)
    assert [n.version for n in consent.notices()] == [2]
    assert consent.notice("news", 1).id == first.id
    assert consent.notice_for(EMAIL).key == "news"
    with pytest.raises(NotFound):
        consent.notice_for(SMS)


def test_erased_customers_are_not_counted(
    vault: Vault,
    consent: ConsentService,
    marketing_notice: Notice,
    make_customers: Callable[..., list[CustomerRef]],
) -> None:
    a, b = make_customers(2)
    for ref in (a, b):
        consent.grant(ref.id, "marketing", notice=marketing_notice, channel="web", actor="customer")
    vault.customers.destroy_key(b.id)
    assert consent.count_eligible(EMAIL) == 1
    assert [i for batch in consent.iter_eligible_ids(EMAIL, ordered=True) for i in batch] == [a.id]
    counts = consent.count_exclusions(EMAIL)
    assert (counts.total, counts.eligible, counts.no_consent) == (1, 1, 0)
    # The proof outlives the erasure (accountability), without any customer data.
    assert [e.action for e in consent.proof(b.id).events] == ["grant"]
