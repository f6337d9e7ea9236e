"""S1 through the gate: the marketing export, the refusal, the hand-over, the audit trail."""

from __future__ import annotations

import pytest

from privault.access.gate import AccessGate
from privault.errors import AccessDenied


def test_marketing_export_only_includes_consenting_customers(gate: AccessGate) -> None:
    result = gate.export("ayesha.khan", "marketing.communications.email", ["first_name", "email"])
    rows = list(result.rows)
    assert sorted(str(r.values["email"]) for r in rows) == ["jana@example.com", "petr@example.com"]
    assert result.summary.included == 2
    assert result.summary.excluded == {"consent_required": 2, "objected": 1}
    assert all(r.customer.startswith("cus_") for r in rows)


def test_customer_service_export_for_marketing_is_refused_and_audited(gate: AccessGate) -> None:
    with pytest.raises(AccessDenied) as info:
        gate.export("jana.dvorakova", "marketing.communications.email", ["email"])
    assert "not_authorised" in info.value.decision.codes  # type: ignore[attr-defined]
    (entry,) = gate.audit.entries(limit=1)
    assert entry.entry.outcome == "denied" and entry.entry.principal == "jana.dvorakova"


def test_hand_over_to_the_friend_is_refused(gate: AccessGate) -> None:
    with pytest.raises(AccessDenied) as info:
        gate.export(
            "jana.dvorakova",
            "essential.service.operations.support",
            ["email"],
            recipient="tomas.kral",
            action="share",
        )
    assert "recipient_not_authorised" in info.value.decision.codes  # type: ignore[attr-defined]


def test_reads_apply_views_and_every_decision_is_in_a_valid_trail(gate: AccessGate) -> None:
    ref = gate.customers.find("email", "zainab@example.org")[0]
    result = gate.read(
        "jana.dvorakova",
        "essential.service.operations.support",
        ref.public_id,
        ["email", "phone", "date_of_birth"],
    )
    assert result.record.values["email"] == "zainab@example.org"
    assert result.summary.views["date_of_birth"] == "masked"
    with pytest.raises(AccessDenied):
        gate.read("ayesha.khan", "marketing.communications.email", ref.public_id, ["email"])
    report = gate.audit.verify()
    assert report.ok
