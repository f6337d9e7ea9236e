"""S1's egress leg: the scanner decides through the gate's policy and the consent ledger.

A vault with the example policy and five customers (two agreed to the newsletter, one
agreed and then objected).  The values are made up; none is printed or snapshotted.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from privault.consent.schemas import NoticeDraft
from privault.errors import AuditUnavailable
from privault.policy.model import Relationship
from privault.runtime import Vault
from privault.scan import EgressVerdict, Recipient, ScanReport, scan_paths

MARKETING = "marketing.communications.email"
SUPPORT = "essential.service.operations.support"
# (first, last, e-mail, phone, consents to the newsletter, objects to marketing)
CUSTOMERS = [
    ("Jana", "Nováková", "jana.n@example.com", "+420 602 111 222", True, False),
    ("Petr", "Malý", "petr.m@example.com", "+420 603 222 333", True, False),
    ("Zainab", "Hussain", "zainab.h@example.org", "+92 300 1234567", False, False),
    ("Oliver", "Smith", "oliver.s@example.net", "+420 604 333 444", True, True),
    ("Eva", "Malik", "eva.m@example.com", "+420 605 444 555", False, False),
]
CONSENTING = CUSTOMERS[:2]


@pytest.fixture
def world(vault: Vault) -> Vault:
    consent = vault.consent
    text = {"en": "Offers by e-mail.", "cs": "Nabídky e-mailem.", "ur": "ای میل کے ذریعے پیشکشیں۔"}
    notice = consent.add_notice(
        NoticeDraft(key="newsletter", purposes=(MARKETING,), title=text, text=text),
        created_by="dpo",
    )
    for first, last, email, phone, consents, objects in CUSTOMERS:
        ref = vault.customers.create(
            {"first_name": first, "last_name": last, "email": email, "phone": phone}
        )
        if consents:
            consent.grant(ref.id, MARKETING, notice=notice, actor="test", channel="web")
        if objects:
            consent.object(ref.id, "marketing", actor="test", channel="web")
    return vault


def _csv(tmp_path: Path, rows: list[tuple[str, str, str, str, bool, bool]], name: str) -> Path:
    path = tmp_path / name
    lines = ["name,email,phone"] + [f"{f} {last},{e},{p}" for f, last, e, p, _, _ in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _emails(tmp_path: Path, rows: list[tuple[str, str, str, str, bool, bool]]) -> Path:
    path = tmp_path / "emails.txt"
    path.write_text("\n".join(r[2] for r in rows) + "\n", encoding="utf-8")
    return path


def _scan(
    vault: Vault,
    path: Path,
    asker: str,
    recipient: Recipient | None,
    purpose: str | None,
) -> ScanReport:
    return scan_paths(
        [path],
        vault.scanner(),
        recipient=recipient,
        purpose=purpose,
        policy=vault.egress,
        asker=asker,
    )


def _verdict(report: ScanReport) -> EgressVerdict:
    assert isinstance(report.verdict, EgressVerdict)
    return report.verdict


def test_copy_to_the_friend_is_blocked(world: Vault, tmp_path: Path) -> None:
    leak = _csv(tmp_path, CUSTOMERS, "leak.csv")
    report = _scan(world, leak, "jana.dvorakova", Recipient(name="tomas.kral"), SUPPORT)
    verdict = _verdict(report)
    assert report.matches.customers == 5
    assert verdict.decision == "block"
    assert verdict.narrow is None
    assert verdict.ruling is not None and verdict.ruling.kind == "internal"
    assert {r.code for f in verdict.ruling.fields for r in f.reasons} == {
        "recipient_not_authorised"
    }
    assert all(not c.allow for c in verdict.ruling.customers)
    out = json.dumps(report.to_dict("cs"), ensure_ascii=False)
    for _, last, email, phone, _, _ in CUSTOMERS:
        assert email not in out and last not in out and phone not in out


@pytest.mark.parametrize(
    "recipient",
    [
        Recipient(name="some-friend"),
        Recipient(name="Tomáš Král (my friend)"),
        Recipient(address="friend@gmail.example"),
        Recipient(address="not an address"),
        None,
    ],
)
def test_unknown_and_external_recipients_are_blocked(
    world: Vault, tmp_path: Path, recipient: Recipient | None
) -> None:
    leak = _csv(tmp_path, CUSTOMERS, "leak.csv")
    report = _scan(world, leak, "jana.dvorakova", recipient, SUPPORT)
    verdict = _verdict(report)
    assert verdict.decision == "block"
    assert verdict.ruling is not None and verdict.ruling.kind == "external"
    assert "unknown_recipient" in {c for x in verdict.ruling.customers for c in x.deny.values()}


def test_an_unknown_domain_is_placed_by_its_country_code(world: Vault, tmp_path: Path) -> None:
    leak = _emails(tmp_path, CONSENTING)
    verdict = _verdict(
        _scan(world, leak, "ayesha.khan", Recipient(address="x@mail.example.pk"), MARKETING)
    )
    assert verdict.decision == "block"
    assert verdict.to_dict()["recipient"]["country"] == "PK"
    assert verdict.to_dict()["recipient"]["name"] == "external:mail.example.pk"


def test_without_purpose_customer_data_is_blocked(world: Vault, tmp_path: Path) -> None:
    leak = _emails(tmp_path, CUSTOMERS)
    for recipient in (Recipient(address="x@gmail.example"), Recipient(name="ayesha.khan")):
        verdict = _verdict(_scan(world, leak, "ayesha.khan", recipient, None))
        assert verdict.decision == "block"
        assert "no_purpose" in {r.code for r in verdict.reasons}
        assert [a.code for a in verdict.actions] == ["state_purpose"]


def test_consented_emails_to_the_marketing_role_are_allowed(world: Vault, tmp_path: Path) -> None:
    mails = _emails(tmp_path, CONSENTING)
    report = _scan(world, mails, "ayesha.khan", Recipient(name="ayesha.khan"), MARKETING)
    verdict = _verdict(report)
    assert report.matches.customers == 2
    assert verdict.decision == "allow", json.dumps(report.to_dict()["verdict"])
    assert verdict.ruling is not None and verdict.ruling.kind == "self"


def test_non_consenting_customers_are_excluded_and_the_rest_may_go(
    world: Vault, tmp_path: Path
) -> None:
    mails = _emails(tmp_path, CUSTOMERS)
    report = _scan(world, mails, "ayesha.khan", Recipient(name="ayesha.khan"), MARKETING)
    verdict = _verdict(report)
    assert verdict.decision == "redact"
    assert verdict.narrow is not None and len(verdict.narrow.customers) == 2
    assert verdict.narrow.fields == ("email",)
    assert verdict.narrow.withheld == 3
    denied = sorted(c for x in verdict.ruling.customers if x.deny for c in x.deny.values())  # type: ignore[union-attr]
    assert denied == ["consent_required", "consent_required", "objected"]
    assert [a.code for a in verdict.actions] == ["narrow", "ask_consent"]
    data = report.to_dict("ur")["verdict"]
    assert data["narrow"]["customers"] == 2
    assert all(a["message"] and a["message"] != a["code"] for a in data["actions"])


def test_the_processor_receives_the_consented_newsletter_list_named_as_processor(
    world: Vault, tmp_path: Path
) -> None:
    mails = _emails(tmp_path, CONSENTING)
    for recipient in (Recipient(name="brightmail"), Recipient(address="lists@brightmail.example")):
        verdict = _verdict(_scan(world, mails, "ayesha.khan", recipient, MARKETING))
        assert verdict.decision == "allow"
        assert verdict.ruling is not None
        assert (verdict.ruling.kind, verdict.ruling.basis) == ("partner", "processor")
        assert verdict.to_dict()["recipient"] == {
            "name": "brightmail",
            "kind": "partner",
            "basis": "processor",
            "country": "DE",
        }
        assert "basis_processor" in {r.code for r in verdict.reasons}
        assert "Art. 28" in verdict.to_dict("en")["reasons"][-1]["message"]


def test_a_customer_may_receive_their_own_data(world: Vault, tmp_path: Path) -> None:
    first, last, email, phone, *_ = CUSTOMERS[2]
    letter = tmp_path / "letter.txt"
    letter.write_text(f"Dear {first} {last},\nwe have {email} and {phone} on file.\n")
    verdict = _verdict(
        _scan(world, letter, "jana.dvorakova", Recipient(address=email.upper()), SUPPORT)
    )
    assert verdict.decision == "allow"
    assert verdict.ruling is not None and verdict.ruling.basis == "data_subject"
    assert "basis_data_subject" in {r.code for r in verdict.reasons}
    # ... but another customer's letter to them is a disclosure to an outsider
    other = CUSTOMERS[0][2]
    verdict = _verdict(_scan(world, letter, "jana.dvorakova", Recipient(address=other), SUPPORT))
    assert verdict.decision == "block"


def test_every_verdict_is_audited_before_it_is_reported(world: Vault, tmp_path: Path) -> None:
    leak = _csv(tmp_path, CUSTOMERS, "leak.csv")
    report = _scan(world, leak, "jana.dvorakova", Recipient(name="tomas.kral"), SUPPORT)
    verdict = _verdict(report)
    (entry,) = world.audit.entries(limit=1)
    assert entry.seq == verdict.audit_seq
    assert entry.entry.action == "egress.scan" and entry.entry.outcome == "denied"
    assert entry.entry.counts["customers"] == 5
    body = json.dumps(entry.entry.as_json(entry.seq), ensure_ascii=False)
    for _, last, email, phone, _, _ in CUSTOMERS:
        assert email not in body and last not in body and phone not in body


def test_audit_unavailable_means_no_verdict(
    world: Vault, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mails = _emails(tmp_path, CONSENTING)

    def broken(*_: object, **__: object) -> object:
        raise AuditUnavailable()

    monkeypatch.setattr(world.audit, "record_grouped", broken)
    with pytest.raises(AuditUnavailable):
        _scan(world, mails, "ayesha.khan", Recipient(name="ayesha.khan"), MARKETING)


def test_a_third_country_recipient_without_a_transfer_tool_is_refused(
    world: Vault, tmp_path: Path
) -> None:
    policy = world.gate.engine.policy
    brightmail = replace(policy.recipients["brightmail"], country="PK")
    world.gate._policy = replace(
        world.policy, recipients={**policy.recipients, "brightmail": brightmail}
    )
    world.gate.refresh()
    mails = _emails(tmp_path, CONSENTING)
    verdict = _verdict(_scan(world, mails, "ayesha.khan", Recipient(name="brightmail"), MARKETING))
    assert verdict.decision == "block"
    assert verdict.ruling is not None
    assert {c for x in verdict.ruling.customers for c in x.deny.values()} == {
        "transfer_mechanism_missing"
    }
    assert verdict.ruling.country == "PK"


def test_a_surname_alone_is_no_customer(world: Vault, tmp_path: Path) -> None:
    note = tmp_path / "note.txt"
    note.write_text("Mr Malik called about the invoice. Malik\nEva Malik will call back.\n")
    report = _scan(world, note, "jana.dvorakova", Recipient(name="tomas.kral"), SUPPORT)
    assert report.matches.customers == 0
    assert report.to_dict()["our_customers"]["customers"] == 0
    verdict = _verdict(report)
    assert verdict.decision == "allow"
    assert verdict.weak_names >= 1
    assert "possible_personal_data_weak" in {r.code for r in verdict.reasons}
    # a full name beside an identifier of the same customer is a match, names included
    note.write_text("Eva Malik, eva.m@example.com\n")
    report = _scan(world, note, "jana.dvorakova", Recipient(name="tomas.kral"), SUPPORT)
    assert report.matches.customers == 1
    assert set(report.matches.by_field) == {"email", "full_name"}


def test_a_third_party_needs_sharing_consent_a_legal_recipient_does_not(
    world: Vault, tmp_path: Path
) -> None:
    mails = _emails(tmp_path, CONSENTING)
    policy = world.gate.engine.policy
    cases: tuple[tuple[Relationship, str], ...] = (
        ("third_party", "block"),
        ("legal_obligation", "allow"),
    )
    for relationship, decision in cases:
        brightmail = replace(policy.recipients["brightmail"], relationship=relationship)
        world.gate._policy = replace(
            world.policy, recipients={**policy.recipients, "brightmail": brightmail}
        )
        world.gate.refresh()
        verdict = _verdict(
            _scan(world, mails, "ayesha.khan", Recipient(name="brightmail"), MARKETING)
        )
        assert verdict.decision == decision, relationship
        assert verdict.ruling is not None
        if decision == "block":
            assert {c for x in verdict.ruling.customers for c in x.deny.values()} == {
                "sharing_consent_required"
            }
            assert [a.code for a in verdict.actions] == ["ask_consent"]
        else:
            assert "basis_legal_obligation" in {r.code for r in verdict.reasons}
