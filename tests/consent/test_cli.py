"""``privault consent``: notices from YAML, decisions, objections, restrictions, errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from privault.cli.app import build
from privault.customers.service import CustomerRef
from privault.errors import InvalidInput, NotFound, UnknownKey
from privault.runtime import Vault

NOTICE = """\
key: partner
purposes: [third_party_sharing]
recipient: Partner a.s.
expiry_months: 24
title: {en: Sharing with Partner a.s., cs: Sdílení s Partner a.s., ur: Partner a.s. کے ساتھ شراکت}
text:
  en: We would like to share your contact details with Partner a.s. for its offers.
  cs: Rádi bychom vaše kontaktní údaje sdíleli se společností Partner a.s. kvůli jejím nabídkám.
  ur: ہم آپ کی رابطے کی تفصیلات Partner a.s. کے ساتھ اس کی پیشکشوں کے لیے شیئر کرنا چاہتے ہیں۔
"""


def run(vault: Vault, *args: str) -> dict[str, object]:
    env = {
        "PRIVAULT_HOME": str(vault.settings.home),
        "PRIVAULT_DATABASE_URL": vault.settings.effective_database_url,
    }
    result = CliRunner().invoke(build(), ["consent", *args, "--json"], env=env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, result.output
    loaded = json.loads(result.output)
    return loaded if isinstance(loaded, dict) else {"items": loaded}


def test_sharing_consent_through_the_cli(
    vault: Vault, tmp_path: Path, make_customers: Callable[..., list[CustomerRef]]
) -> None:
    (customer,) = make_customers(1, "ur")
    notice_file = tmp_path / "partner.yaml"
    notice_file.write_text(NOTICE, encoding="utf-8")
    added = run(vault, "notice", "add", str(notice_file), "--by", "dpo")
    assert (added["key"], added["version"], added["recipient"]) == ("partner", 1, "Partner a.s.")
    assert len(run(vault, "notice", "list")["items"]) == 1  # type: ignore[arg-type]

    run(
        vault,
        "grant",
        customer.public_id,
        "--purpose",
        "third_party_sharing",
        "--recipient",
        "Partner a.s.",
        "--notice",
        "partner",
        "--channel",
        "paper",
        "--by",
        "agent-3",
        "--evidence",
        "scan 2026/118",
    )
    run(vault, "object", customer.id, "--purpose", "marketing", "--by", "dpo")
    run(vault, "restrict", customer.id, "--by", "dpo", "--reason", "DSR-77")
    shown = run(vault, "show", customer.public_id)
    assert shown["restricted"] is True
    consents = shown["consents"]
    assert isinstance(consents, list) and consents[0]["recipient"] == "Partner a.s."
    # The notice's consents lapse 24 months after they are given (by the real clock).
    decided = datetime.fromisoformat(consents[0]["decided_at"])
    expires = datetime.fromisoformat(consents[0]["expires_at"])
    assert expires.date() == decided.date().replace(year=decided.year + 2)
    counted = run(vault, "count", "--purpose", "third_party_sharing", "--recipient", "Partner a.s.")
    assert (counted["eligible"], counted["restriction"]) == (0, 1)
    run(vault, "restrict", customer.id, "--by", "dpo", "--lift")
    counted = run(vault, "count", "--purpose", "third_party_sharing", "--recipient", "Partner a.s.")
    assert counted["eligible"] == 1
    link = run(vault, "link", customer.public_id)
    assert str(link["url"]).startswith(vault.settings.public_base_url + "/preferences/")


def test_cli_errors_are_privault_errors(
    vault: Vault, tmp_path: Path, make_customers: Callable[..., list[CustomerRef]]
) -> None:
    (customer,) = make_customers(1)
    with pytest.raises(NotFound):
        run(vault, "show", "cus_0000000000000000")
    with pytest.raises(UnknownKey):
        run(vault, "count", "--purpose", "marketting")
    with pytest.raises(InvalidInput):
        run(vault, "grant", customer.id, "--purpose", "marketing", "--notice", "x:y", "--by", "a")
    bad = tmp_path / "bad.yaml"
    bad.write_text("key: Bad Key\npurposes: []\n", encoding="utf-8")
    with pytest.raises(InvalidInput):
        run(vault, "notice", "add", str(bad), "--by", "dpo")
