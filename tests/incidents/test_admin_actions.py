"""Administrative actions raise no incident but are audited: ``privault demo`` (its S1
story is played on behalf of the demo set-up), ``fields verify``, an operator's typo'd
path in ``privault scan`` -- even with every detector's threshold set low."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from privault.cli.app import build
from privault.cli.context import operator


def _run(env: dict[str, str], *args: str) -> Any:
    result = CliRunner().invoke(build(), [*args, "--json"], env=env)
    assert result.exit_code in (0, 3), result.output
    return json.loads(result.stdout)


def test_demo_fields_verify_and_a_typo_raise_no_incident(tmp_path: Path) -> None:
    env = {
        "PRIVAULT_HOME": str(tmp_path / "home"),
        # low enough that the demo's marketing export alone would count as unusual
        "PRIVAULT_INCIDENT_VOLUME_MIN_RECORDS": "5",
        "PRIVAULT_INCIDENT_DENIED_BURST": "2",
    }
    _run(env, "demo", "--customers", "60")
    _run(
        env,
        "fields",
        "verify",
        "email",
        "--classification",
        "confidential",
        "--by",
        "sana.malik",
        "--reason",
        "Reviewed with the DPO today.",
    )
    _run(env, "scan", str(tmp_path / "custmers.csv"), "--recipient", "tomas.kral")
    checked = _run(env, "incident", "check")
    assert checked["raised"] == []
    assert _run(env, "incident", "list") == []
    entries = _run(env, "audit", "list", "--limit", "500")
    actions = {e["action"] for e in entries}
    assert {"vault.init", "field.classify", "incident.not_raised", "incident.check"} <= actions
    export = next(e for e in entries if e["action"] == "export")
    assert export["actor"] == operator() and export["on_behalf_of"] == "demo"
