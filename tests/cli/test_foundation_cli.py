"""The CLI as a person uses it: a real ``privault`` process, one-line errors, --json."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PRIVAULT = [sys.executable, "-m", "privault"]


def run(
    home: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PRIVAULT_HOME": str(home)}
    environment.pop("PRIVAULT_DATABASE_URL", None)
    environment.update(env or {})
    return subprocess.run(
        [*PRIVAULT, *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=300,
        check=False,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], fragment: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and fragment in lines[0], result.stderr


def test_demo_then_count_rotate_and_fields(tmp_path: Path) -> None:
    home = tmp_path / "home"
    demo = run(home, "demo", "--customers", "200", "--json")
    assert demo.returncode == 0, demo.stderr
    story = json.loads(demo.stdout)
    assert story["customers"] == 200
    s1 = story["s1"]
    assert s1["marketing_export"]["included"] == story["consented_to_marketing"] > 0
    assert s1["marketing_export"]["rows"] == s1["marketing_export"]["included"]
    assert sum(s1["marketing_export"]["excluded"].values()) == 200 - story["consented_to_marketing"]
    assert s1["customer_service_asks_for_marketing"]["reasons"] == ["not_authorised"]
    assert "recipient_not_authorised" in s1["hand_over_to_friend"]["reasons"]
    assert s1["audit"]["ok"]
    assert not (home / "demo" / "customers.csv").exists()  # no plaintext copy left behind
    count = run(home, "customers", "count", "--json")
    assert json.loads(count.stdout) == {"customers": 200}
    rotated = json.loads(run(home, "keys", "rotate", "--json").stdout)
    assert rotated["new_version"] == 2 and rotated["rewrapped"] == 200
    assert run(home, "keys", "retire", "1", "--json").returncode == 0
    status = json.loads(run(home, "keys", "status", "--json").stdout)
    assert status == {"active_version": 2, "versions": [2], "data_keys_by_version": {"2": 200}}
    fields = json.loads(run(home, "fields", "list", "--json").stdout)
    assert {f["classification"] for f in fields} == {"confidential"}
    verified = run(
        home,
        "fields",
        "verify",
        "company",
        "--classification",
        "public",
        "--by",
        "DPO",
        "--reason",
        "listed in the public trade register",
        "--json",
    )
    assert verified.returncode == 0, verified.stderr
    fields = {f["name"]: f for f in json.loads(run(home, "fields", "list", "--json").stdout)}
    assert fields["company"]["classification"] == "public"
    assert fields["company"]["verified_by"] == "DPO"


def test_import_reports_bad_rows_and_exits_non_zero(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert run(home, "init").returncode == 0
    source = tmp_path / "in.csv"
    source.write_text(
        "first_name,last_name,email\nJana,Malá,jana@example.com\nPetr,Novák,petr-at-nowhere\n"
    )
    result = run(
        home, "customers", "import", str(source), "--collected-for", "essential.service", "--json"
    )
    assert result.returncode == 3
    report = json.loads(result.stdout)
    assert report["accepted"] == 1 and report["errors"] == [
        {"line": 3, "reasons": ["email: Not a valid e-mail address."]}
    ]
    assert "petr-at-nowhere" not in result.stdout


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("customers", "count"), "privault init"),
        (("keys", "status"), "privault init"),
    ],
)
def test_uninitialised_vault_errors_are_one_line(
    tmp_path: Path, args: tuple[str, ...], fragment: str
) -> None:
    assert_one_line_error(run(tmp_path / "empty", *args), fragment)


def test_other_errors_are_one_line(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert run(home, "init").returncode == 0
    assert_one_line_error(run(home, "init"), "already exists")
    assert_one_line_error(
        run(
            home,
            "customers",
            "import",
            str(tmp_path / "missing.csv"),
            "--collected-for",
            "essential.service",
        ),
        "No such file",
    )
    assert_one_line_error(
        run(
            home,
            "customers",
            "import",
            str(tmp_path / "x.csv"),
            "--collected-for",
            "marketing.spam",
        ),
        "Unknown purpose",
    )
    assert_one_line_error(
        run(home, "customers", "count", env={"PRIVAULT_DATABASE_URL": "mysql://nope"}),
        "Unsupported database URL",
    )


def test_usage_errors_are_one_clear_message_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Through the real entry point (not CliRunner): whichever copy of click Typer uses,
    a usage error is its message and exit code 2, never a traceback."""
    from privault.cli.app import main

    monkeypatch.setattr(sys, "argv", ["privault", "demo", "--no-such-option"])
    with pytest.raises(SystemExit) as stopped:
        main()
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "No such option: --no-such-option" in err
    assert "Traceback" not in err
