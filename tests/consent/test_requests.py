"""Consent requests: undecided customers get one message each, in their language, with a
working link; the requester sees counts only."""

from __future__ import annotations

import csv
import email
import json
import socket
import stat
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from typer.testing import CliRunner

from privault.cli.app import build
from privault.consent.flows import RequestOutcome, request_consent
from privault.consent.schemas import Notice
from privault.consent.service import ConsentService
from privault.customers.service import CustomerRef
from privault.errors import ConfigError, InvalidInput
from privault.runtime import Vault, open_vault

from .conftest import LiveServer, draft


class Sink:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 OK"


@pytest.fixture
def smtp_sink() -> Iterator[tuple[Sink, int]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


def addresses_of(refs: list[CustomerRef], vault: Vault) -> set[str]:
    pairs = vault.customers.fetch_many([r.id for r in refs], ["email"])
    return {values["email"] or "" for _, values in pairs}


def ask(vault: Vault, purpose: str, **options: Any) -> RequestOutcome:
    """``request_consent`` with the collaborators of ``vault``."""
    return request_consent(
        vault.consent,
        vault.links,
        vault.customers,
        vault.settings,
        purpose,
        actor="cli:test",
        **options,
    )


def test_each_undecided_customer_gets_one_message_in_their_language(
    live_server: LiveServer,
    smtp_sink: tuple[Sink, int],
    consent: ConsentService,
    make_customers: Callable[..., list[CustomerRef]],
) -> None:
    sink, port = smtp_sink
    notice = consent.add_notice(
        draft("email-news", ("marketing.communications.email",)), created_by="dpo"
    )
    czech, urdu, english = make_customers(1, "cs"), make_customers(1, "ur"), make_customers(2, "en")
    decided = english[1]
    consent.withdraw(
        decided.id, "marketing.communications.email", notice=notice, channel="paper", actor="agent"
    )
    settings = live_server.settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_from": "privacy@company.example"}
    )
    vault = open_vault(settings, live_server.app_vault.clock)
    try:
        outcome = ask(vault, "marketing.communications.email", send=True)
    finally:
        vault.close()
    assert (outcome.selected, outcome.sent, outcome.failed) == (3, 3, 0)
    assert outcome.by_language == {"cs": 1, "ur": 1, "en": 1}
    assert "@" not in repr(outcome)

    expected = {
        next(iter(addresses_of([ref], live_server.app_vault))): (ref, lang, words)
        for ref, lang, words in (
            (czech[0], "cs", "Vaše rozhodnutí"),
            (urdu[0], "ur", "آپ کا انتخاب"),
            (english[0], "en", "Your choice"),
        )
    }
    assert sorted(str(m["To"]) for m in sink.messages) == sorted(expected)  # one each
    for message in sink.messages:
        _ref, lang, words = expected[str(message["To"])]
        assert message["Content-Language"] == lang
        assert str(message["Subject"]).startswith(words)
        body = message.get_content()
        assert notice.text(lang) in body
        link = next(line for line in body.splitlines() if line.startswith(live_server.base_url))
        page = httpx.get(link, timeout=10)
        assert page.status_code == 200
        assert f'lang="{lang}"' in page.text and "notice-email-news" in page.text


def test_csv_for_the_mailer_is_owner_only_and_never_overwritten(
    vault: Vault,
    tmp_path: Path,
    consent: ConsentService,
    marketing_notice: Notice,
    make_customers: Callable[..., list[CustomerRef]],
) -> None:
    refs = make_customers(2, "cs")
    out = tmp_path / "mailer.csv"
    outcome = ask(vault, "marketing", out=out)
    assert (outcome.selected, outcome.written) == (2, 2)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["email"] for r in rows} == addresses_of(refs, vault)
    assert all(r["language"] == "cs" and r["subject"].startswith("Vaše") for r in rows)
    with pytest.raises(InvalidInput):
        ask(vault, "marketing", out=out)
    with pytest.raises(InvalidInput):
        ask(vault, "marketing")
    with pytest.raises(ConfigError):
        ask(vault, "marketing", send=True)  # no SMTP server configured


def test_cli_request_shows_counts_only(
    vault: Vault,
    smtp_sink: tuple[Sink, int],
    consent: ConsentService,
    marketing_notice: Notice,
    make_customers: Callable[..., list[CustomerRef]],
) -> None:
    sink, port = smtp_sink
    refs = make_customers(2, "en")
    env = {
        "PRIVAULT_HOME": str(vault.settings.home),
        "PRIVAULT_DATABASE_URL": vault.settings.effective_database_url,
        "PRIVAULT_SMTP_HOST": "127.0.0.1",
        "PRIVAULT_SMTP_PORT": str(port),
        "PRIVAULT_SMTP_FROM": "privacy@company.example",
    }
    runner = CliRunner()
    for extra in ([], ["--json"]):
        result = runner.invoke(
            build(), ["consent", "request", "--purpose", "marketing", "--send", *extra], env=env
        )
        assert result.exit_code == 0, result.output
        for address in addresses_of(refs, vault):
            assert address not in result.output
        assert "@" not in result.output
    assert json.loads(result.output)["sent"] == 2
    assert len(sink.messages) == 4  # two runs, nobody decided in between

    shown = runner.invoke(
        build(),
        [
            "consent",
            "grant",
            refs[0].public_id,
            "--purpose",
            "marketing",
            "--notice",
            "marketing:1",
            "--by",
            "agent",
            "--json",
        ],
        env=env,
    )
    assert shown.exit_code == 0, shown.output
    proof = runner.invoke(build(), ["consent", "proof", refs[0].public_id, "--json"], env=env)
    events = json.loads(proof.output)["events"]
    assert [(e["action"], e["notice"]["version"]) for e in events] == [("grant", 1)]
    assert events[0]["notice"]["text"]["en"] == marketing_notice.text("en")
    counted = runner.invoke(
        build(), ["consent", "count", "--purpose", "marketing", "--json"], env=env
    )
    assert json.loads(counted.output)["eligible"] == 1
