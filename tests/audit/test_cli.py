"""``privault audit``: verify (database and --from), export, checkpoint, list; exit codes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import typer
from sqlalchemy import text
from typer.testing import CliRunner

from privault.audit import AuditLog
from privault.cli import audit
from privault.cli.context import CliState
from privault.runtime import Vault
from privault.settings import Settings
from tests.audit.conftest import make_entry

Invoke = Callable[..., tuple[int, str]]


def root_app() -> typer.Typer:
    root = typer.Typer()

    @root.callback()
    def callback(ctx: typer.Context) -> None:
        ctx.obj = CliState()

    root.add_typer(audit.app, name="audit")
    return root


@pytest.fixture
def invoke(settings: Settings) -> Invoke:
    runner = CliRunner()
    env = {
        "PRIVAULT_HOME": str(settings.home),
        "PRIVAULT_DATABASE_URL": settings.database_url or "",
    }

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(root_app(), ["audit", *args], env=env)
        return result.exit_code, result.stdout

    return run


def test_verify_export_list_checkpoint(vault: Vault, invoke: Invoke, tmp_path: Path) -> None:
    log = AuditLog(vault, checkpoint_every=4)
    log.record_many(make_entry(i) for i in range(1, 11))
    code, out = invoke("verify", "--json")
    assert code == 0 and json.loads(out)["ok"] is True
    code, out = invoke("checkpoint", "--json")
    assert code == 0 and json.loads(out)["seq"] == 10
    code, out = invoke("list", "--limit", "2", "--json")
    rows = json.loads(out)
    assert [r["seq"] for r in rows] == [10, 9] and rows[0]["principal"] == "svc-support"
    code, out = invoke("export", str(tmp_path / "x"), "--json")
    assert code == 0 and json.loads(out)["entries"] == 10
    key = vault.keyring.public_signing_key().hex()
    code, out = invoke("verify", "--from", str(tmp_path / "x"), "--public-key", key)
    assert code == 0 and "intact" in out
    code, out = invoke("verify", "--lang", "cs")
    assert code == 0 and "neporušená" in out

    with vault.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_entries WHERE seq = 3"))
    code, out = invoke("verify", "--json")
    data = json.loads(out)
    assert code == 1 and data["ok"] is False
    assert data["problem"]["seq"] == 3 and data["problem"]["reason"] == "missing_entry"
    code, out = invoke("verify", "--lang", "ur")
    assert code == 1 and "3" in out and "غائب" in out
    code, out = invoke("export", str(tmp_path / "y"))
    code, out = invoke("verify", "--from", str(tmp_path / "y"), "--json")
    assert code == 1 and json.loads(out)["problem"]["seq"] == 3
