"""``privault scan`` as other tools call it: the JSON contract and S1's egress leg.

``scan PATH... (--recipient NAME | --external ADDRESS) [--purpose P] [--no-match]
[--as NAME] --json`` answers ``verdict.decision`` in allow|redact|block and the customer
count at ``our_customers.customers`` (0 when none).  Values are made up.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from privault.cli.app import build
from privault.consent.schemas import NoticeDraft
from privault.runtime import initialise, open_vault
from privault.settings import Settings

MARKETING = "marketing.communications.email"
SUPPORT = "essential.service.operations.support"
PEOPLE = [
    ("Jana", "Nováková", "jana.n@example.com", "+420 602 111 222", True),
    ("Petr", "Malý", "petr.m@example.com", "+420 603 222 333", True),
    ("Zainab", "Hussain", "zainab.h@example.org", "+92 300 1234567", False),
    ("Eva", "Malik", "eva.m@example.com", "+420 605 444 555", False),
    ("Ivan", "Malik", "ivan.m@example.com", "+420 606 555 666", False),
]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("scan") / "home"
    settings = Settings(home=home, database_url=None)
    initialise(settings, actor="test")
    with open_vault(settings) as vault:
        text = {"en": "Offers.", "cs": "Nabídky.", "ur": "پیشکشیں۔"}
        notice = vault.consent.add_notice(
            NoticeDraft(key="newsletter", purposes=(MARKETING,), title=text, text=text),
            created_by="dpo",
        )
        for first, last, email, phone, consents in PEOPLE:
            ref = vault.customers.create(
                {"first_name": first, "last_name": last, "email": email, "phone": phone}
            )
            if consents:
                vault.consent.grant(ref.id, MARKETING, notice=notice, actor="t", channel="web")
    return home


def scan(home: Path, *args: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(
        build(),
        ["scan", *args, "--json"],
        env={"PRIVAULT_HOME": str(home), "PRIVAULT_DATABASE_URL": ""},
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, json.loads(result.stdout)


def _file(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_s1_copy_to_the_friend_and_to_outsiders_is_blocked(home: Path, tmp_path: Path) -> None:
    leak = _file(
        tmp_path,
        "leak.csv",
        "name,email,phone\n" + "".join(f"{f} {la},{e},{p}\n" for f, la, e, p, _ in PEOPLE),
    )
    for target in (
        ["--recipient", "tomas.kral"],
        ["--recipient", "nobody.we.know"],
        ["--external", "friend@gmail.example"],
    ):
        code, out = scan(home, leak, *target, "--purpose", SUPPORT, "--as", "jana.dvorakova")
        assert (code, out["verdict"]["decision"]) == (3, "block"), target
        assert out["our_customers"]["customers"] == 5
        assert out["verdict"]["asker"] == "jana.dvorakova"
    code, out = scan(home, leak, "--external", "friend@gmail.example", "--as", "jana.dvorakova")
    assert out["verdict"]["decision"] == "block"  # no purpose
    dumped = json.dumps(out, ensure_ascii=False)
    assert all(e not in dumped and p not in dumped for _, _, e, p, _ in PEOPLE)


def test_s1_consented_emails_to_the_marketing_role(home: Path, tmp_path: Path) -> None:
    consented = _file(tmp_path, "ok.txt", "\n".join(e for *_, e, _, c in PEOPLE if c))
    code, out = scan(
        home, consented, "--recipient", "ayesha.khan", "--purpose", MARKETING, "--as", "ayesha.khan"
    )
    assert (code, out["verdict"]["decision"]) == (0, "allow")
    everyone = _file(tmp_path, "all.txt", "\n".join(p[2] for p in PEOPLE))
    code, out = scan(
        home,
        everyone,
        "--recipient",
        "ayesha.khan",
        "--purpose",
        MARKETING,
        "--as",
        "ayesha.khan",
        "--lang",
        "cs",
    )
    verdict = out["verdict"]
    assert verdict["decision"] == "redact"
    assert verdict["narrow"]["customers"] == 2 and verdict["narrow"]["fields"] == ["email"]
    assert [a["code"] for a in verdict["actions"]] == ["narrow", "ask_consent"]
    assert "preferencí" in verdict["actions"][1]["message"]  # translated, not only the headline
    explanation = verdict["explanation"]
    assert explanation["lang"] == "cs" and "ayesha.khan" in explanation["request"]
    assert explanation["fields"][0]["field"] == "email"
    (field,) = verdict["fields"]
    assert (field["field"], field["customers_allowed"], field["customers_denied"]) == (
        "email",
        2,
        3,
    )


def test_no_customers_and_no_match(home: Path, tmp_path: Path) -> None:
    note = _file(
        tmp_path, "note.txt", "Mr Malik called. Eva Malik calls back. Verze 10.2.3.4 je venku.\n"
    )
    code, out = scan(home, note, "--recipient", "tomas.kral", "--purpose", SUPPORT)
    assert out["our_customers"]["customers"] == 0
    assert out["our_customers"]["by_strength"]["name_only"] >= 1
    assert "IP_ADDRESS" not in out["counts"]
    assert out["verdict"]["decision"] == "allow" and code == 0
    assert "possible_personal_data_weak" in [r["code"] for r in out["verdict"]["reasons"]]
    mails = _file(tmp_path, "mails.txt", PEOPLE[0][2] + "\n")
    code, out = scan(
        home, mails, "--external", "x@gmail.example", "--no-match", "--purpose", SUPPORT
    )
    assert out["our_customers"]["customers"] == 0
    assert out["verdict"]["decision"] == "redact"  # personal data to an outsider: redact
