"""``privault policy`` through Typer's runner: S1 in three languages, check, test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from privault.cli.policy import app
from privault.errors import ConfigError
from privault.policy import EXAMPLE_TESTS

runner = CliRunner()
MARKETING = "marketing.communications.email"


def explain(*args: str) -> dict[str, object]:
    result = runner.invoke(app, ["explain", *args, "--json"])
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.stdout)
    return data


S1 = {
    "granted": (
        ["--principal", "ayesha.khan"],
        "conditional",
        {"consent_required", "objected", "restricted"},
    ),
    "friend": (["--principal", "tomas.kral"], "deny", {"not_authorised"}),
    "ten_years": (["--principal", "jana.dvorakova"], "deny", {"not_authorised"}),
}
WAY_FORWARD = {"en": "preference centre", "cs": "centru předvoleb", "ur": "ترجیحات کے مرکز"}
RULE_WORD = {"en": "Rule", "cs": "Pravidlo", "ur": "اصول"}


@pytest.mark.parametrize("lang", ["en", "cs", "ur"])
@pytest.mark.parametrize("who", list(S1))
def test_s1_explained(who: str, lang: str) -> None:
    args, effect, codes = S1[who]
    data = explain(
        *args,
        "--purpose",
        MARKETING,
        "--field",
        "email",
        "--action",
        "export",
        "--customers",
        "12000",
        "--lang",
        lang,
    )
    decision = data["decision"]
    assert isinstance(decision, dict)
    assert decision["effect"] == effect
    assert set(decision["codes"]) == codes
    text = json.dumps(data["explanation"], ensure_ascii=False)
    rule = "R6" if effect == "conditional" else "R3"
    assert f"{RULE_WORD[lang]} {rule}" in text
    if effect == "conditional":
        assert WAY_FORWARD[lang] in text


@pytest.mark.parametrize("lang", ["en", "cs", "ur"])
def test_s1_handover_to_the_friend(lang: str) -> None:
    data = explain(
        "--principal",
        "jana.dvorakova",
        "--purpose",
        "essential.service.operations.support",
        "--field",
        "email",
        "--action",
        "share",
        "--recipient",
        "tomas.kral",
        "--lang",
        lang,
    )
    decision = data["decision"]
    assert isinstance(decision, dict)
    assert decision["codes"] == ["recipient_not_authorised"]
    assert "tomas.kral" in json.dumps(data["explanation"], ensure_ascii=False)


def test_explain_human_output_in_urdu() -> None:
    result = runner.invoke(
        app,
        [
            "explain",
            "--principal",
            "jana.dvorakova",
            "--purpose",
            MARKETING,
            "--field",
            "email",
            "--action",
            "export",
            "--lang",
            "ur",
        ],
    )
    assert result.exit_code == 0
    assert "اصول R3" in result.stdout and "۔" in result.stdout


def test_check_reports_the_example() -> None:
    result = runner.invoke(app, ["check", "--json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["ok"] and data["principals"] == 7 and len(data["digest"]) == 64


def test_check_rejects_a_bad_policy(tmp_path: Path) -> None:
    bad = tmp_path / "policy.yaml"
    bad.write_text(
        "roles:\n  - name: x\n    purposes: [marketing]\n    views: {user: plain}\n"
        "    max_customers: 1\n    colour: red\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["check", str(bad)])
    assert isinstance(result.exception, ConfigError)
    assert "roles[0] (x).colour" in str(result.exception)


def test_test_command_passes_on_the_example() -> None:
    result = runner.invoke(app, ["test", "--json"])
    assert result.exit_code == 0, result.stdout
    data = json.loads(result.stdout)
    assert data["failed"] == 0 and data["passed"] >= 25


def test_test_command_fails_on_a_wrong_expectation(tmp_path: Path) -> None:
    cases = tmp_path / "cases.yaml"
    text = EXAMPLE_TESTS.read_text(encoding="utf-8").replace(
        "expect: {effect: deny, codes: [not_authorised], rules: [R3]}",
        "expect: {effect: allow, codes: [], rules: []}",
    )
    cases.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["test", str(cases)])
    assert result.exit_code == 1
    assert "FAIL S1 the friend without a marketing grant is refused" in result.stdout
    assert "1 failed" in result.stdout


def test_unknown_language_is_an_input_error() -> None:
    result = runner.invoke(
        app, ["explain", "--principal", "a", "--purpose", "b", "--field", "c", "--lang", "de"]
    )
    assert result.exit_code != 0
