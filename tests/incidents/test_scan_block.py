"""S1: the list of customers' e-mail addresses, mailed to a friend outside, is blocked by
the scanner and opens exactly one incident -- scanning it again adds to the same one --
with the customer count and no customer data anywhere: not in the incident, its
timeline, the notifications sent, the register or the audit trail."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from privault.cli.app import build
from privault.errors import AdminRequired, InvalidInput
from privault.incidents.workflow import Source
from privault.runtime import Vault
from privault.settings import Settings
from tests.incidents.receivers import smtp_sink, webhook_receiver

PEOPLE = [
    ("Jana", "jana.prochazkova@example.com"),
    ("Petr", "petr.svoboda77@example.cz"),
    ("Zainab", "zainab.akhtar@example.pk"),
    ("Oliver", "oliver.smith@example.net"),
    ("Eva", "eva.kralova@example.org"),
    ("Karel", "karel.dvorak@example.cz"),
]
SECRET = "whsec-s1"


def app() -> typer.Typer:
    return build()


@pytest.fixture
def exported(vault: Vault, tmp_path: Path) -> Path:
    """What Jana's friend asked for: a CSV of customers' names and e-mail addresses."""
    for first, address in PEOPLE:
        vault.customers.create({"first_name": first, "last_name": "Testová", "email": address})
    path = tmp_path / "customers.csv"
    lines = ["first_name,email", *(f"{first},{address}" for first, address in PEOPLE)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_s1_exfiltration_opens_exactly_one_incident_without_plaintext(
    vault: Vault, settings: Settings, exported: Path
) -> None:
    runner = CliRunner()
    with smtp_sink() as (sink, port), webhook_receiver() as (hook, url):
        env = {
            "PRIVAULT_HOME": str(settings.home),
            "PRIVAULT_DATABASE_URL": settings.database_url or "",
            "PRIVAULT_SMTP_HOST": "127.0.0.1",
            "PRIVAULT_SMTP_PORT": str(port),
            "PRIVAULT_SMTP_FROM": "privault@company.example",
            "PRIVAULT_INCIDENT_COMPLIANCE_EMAILS": '["compliance@company.example"]',
            "PRIVAULT_INCIDENT_WEBHOOK_URLS": json.dumps([url]),
            "PRIVAULT_INCIDENT_WEBHOOK_SECRET": SECRET,
        }
        command = [
            "--as",
            "jana.dvorakova",
            "scan",
            str(exported),
            "--external",
            "friend@gmail.com",
            "--purpose",
            "marketing.communications.email",
            "--json",
        ]
        first = runner.invoke(app(), command, env=env)
        assert first.exit_code == 3, first.output
        second = runner.invoke(app(), command, env=env)
        assert second.exit_code == 3, second.output
        listed = runner.invoke(app(), ["incident", "list", "--json"], env=env)
        assert listed.exit_code == 0, listed.output
        incidents = json.loads(listed.stdout)
        assert len(incidents) == 1
        found = incidents[0]
        shown = runner.invoke(app(), ["incident", "show", found["id"], "--json"], env=env)
        register = runner.invoke(app(), ["incident", "register", "--format", "csv"], env=env)
        prevented = runner.invoke(
            app(), ["incident", "register", "--prevented", "--format", "csv"], env=env
        )
        draft = runner.invoke(
            app(), ["incident", "draft-notice", found["id"], "--lang", "cs", "--json"], env=env
        )
        assert hook.event.wait(5)
    assert found["source"] == Source.SCAN_BLOCK.value
    # A blocked transfer is a prevented attempt: low, no 72-hour clock, no Art. 33
    # draft, a review deadline; listed apart from the breaches of the register.
    assert found["nature"] == "prevented_attempt" and found["status"] == "prevented"
    assert found["severity"] == "low" and found["clock"]["running"] is False
    assert found["review_due"] is not None and found["investigation_due"] is None
    assert draft.exit_code != 0 and isinstance(draft.exception, InvalidInput)
    assert found["id"] not in register.stdout and found["id"] in prevented.stdout
    assert found["estimated_customers"] == len(PEOPLE)
    assert found["known_customers"] == len(PEOPLE)
    assert found["categories"] == ["user.contact.email"]
    timeline = json.loads(shown.stdout)["timeline"]
    assert [e["kind"] for e in timeline if e["kind"].startswith("detected")] == [
        "detected",
        "detected_again",
    ]
    assert timeline[0]["data"]["customers"] == len(PEOPLE)
    assert timeline[0]["data"]["recipient_kind"] == "external"
    # notified once (the incident was opened once), by mail and by webhook
    assert len(sink.messages) == 1 and len(hook.requests) == 1
    payload = sink.messages[0].get_payload(decode=True)
    assert isinstance(payload, bytes)
    mail = payload.decode("utf-8")
    assert "Prevented attempt" in mail and "supervisory authority" not in mail
    sent = json.loads(hook.requests[0][1])["incident"]
    assert sent["nature"] == "prevented_attempt" and sent["deadline"] is None
    assert sent["review_due"] == found["review_due"]
    everything = "\n".join(
        [
            listed.stdout,
            shown.stdout,
            register.stdout,
            draft.stdout,
            *(m.as_string() for m in sink.messages),
            *(body.decode() for _, body in hook.requests),
            *(e.body for e in vault.audit.entries(limit=1000)),
        ]
    )
    for _first_name, address in PEOPLE:
        assert address not in everything
        assert address.split("@")[0] not in everything
    assert "friend@gmail.com" not in everything


def test_no_incident_flag_opts_out(vault: Vault, settings: Settings, exported: Path) -> None:
    """Only the compliance role may scan without the incident hook (item 7)."""
    env = {
        "PRIVAULT_HOME": str(settings.home),
        "PRIVAULT_DATABASE_URL": settings.database_url or "",
    }
    runner = CliRunner()
    command = ["scan", str(exported), "--external", "friend@gmail.com", "--no-incident", "--json"]
    for who in ([], ["--as", "jana.dvorakova"]):  # the operator, customer service
        refused = runner.invoke(app(), [*who, *command], env=env)
        assert refused.exit_code != 0 and isinstance(refused.exception, AdminRequired)
    result = runner.invoke(app(), ["--as", "sana.malik", *command], env=env)
    assert result.exit_code == 3, result.output
    (entry,) = [e.entry for e in vault.audit.entries(limit=5) if e.entry.kind.value == "incident"]
    assert entry.action == "incident.not_raised" and entry.principal == "sana.malik"
    assert entry.details["reason"] == "no_incident_flag" and entry.counts["customers"] == 6
    listed = runner.invoke(app(), ["incident", "list", "--json"], env=env)
    assert json.loads(listed.stdout) == []


def test_a_typo_in_the_path_opens_no_incident(
    vault: Vault, settings: Settings, tmp_path: Path
) -> None:
    """An operator's typo'd path gives ``block`` (nothing could be read) but no
    incident: no personal data was found, nothing was attempted."""
    env = {
        "PRIVAULT_HOME": str(settings.home),
        "PRIVAULT_DATABASE_URL": settings.database_url or "",
    }
    runner = CliRunner()
    missing = tmp_path / "custmers.csv"
    result = runner.invoke(app(), ["scan", str(missing), "--recipient", "tomas.kral"], env=env)
    assert result.exit_code == 3, result.output
    assert vault.incidents.find() == []
    entry = vault.audit.entries(limit=1)[0].entry  # audited all the same
    assert entry.action == "incident.not_raised" and entry.details["reason"] == "nothing_found"


def test_blocked_transfer_converts_into_a_suspected_breach(
    vault: Vault, settings: Settings, exported: Path
) -> None:
    """The officer may convert a prevented attempt (audited); the 72-hour clock then
    starts at the awareness time recorded, and the breach enters the register."""
    env = {
        "PRIVAULT_HOME": str(settings.home),
        "PRIVAULT_DATABASE_URL": settings.database_url or "",
    }
    runner = CliRunner()
    scanned = runner.invoke(
        app(), ["scan", str(exported), "--external", "friend@gmail.com", "--json"], env=env
    )
    assert scanned.exit_code == 3, scanned.output
    (incident,) = vault.incidents.find()
    assert incident.nature.value == "prevented_attempt"
    aware = vault.clock.now().replace(microsecond=0).isoformat()
    converted = runner.invoke(
        app(),
        [
            "--as",
            "sana.malik",
            "incident",
            "transition",
            incident.id,
            "reported",
            "--aware-at",
            aware,
            "--json",
        ],
        env=env,
    )
    assert converted.exit_code == 0, converted.output
    view = json.loads(converted.stdout)
    assert view["nature"] == "suspected_breach" and view["status"] == "reported"
    assert view["clock"]["running"] is True and view["investigation_due"] is not None
    assert view["aware_at"] == vault.clock.now().replace(microsecond=0).isoformat()
    register = vault.incidents.register()
    assert [r["id"] for r in register] == [incident.id]
    actions = [e.entry.action for e in vault.audit.entries(limit=20)]
    assert "incident.convert" in actions
    kinds = [e.kind for e in vault.incidents.timeline(incident.id)]
    assert "converted" in kinds
