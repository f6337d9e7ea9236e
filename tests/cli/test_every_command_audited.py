"""R1 on the command line: every command that changes state or writes customer data out
leaves its audit entry, whoever runs it -- and a new command cannot forget.

``test_every_command_is_classified`` walks the whole Typer tree: a command that is in
neither ``READS`` nor ``CHANGES`` fails it, so whoever adds a command must say which it
is.  ``test_each_change_exits_0_and_leaves_its_entry`` then runs every command of
``CHANGES`` on a real vault and checks that the trail gained the entry it names,
recorded for the operator (``cli:<os user>``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy import text
from typer.testing import CliRunner

from privault.cli.app import build
from privault.cli.context import operator
from privault.runtime import open_vault
from privault.settings import Settings

Path_ = tuple[str, ...]

# Commands that change nothing and write no customer data out.
READS: frozenset[Path_] = frozenset(
    {
        ("audit", "checkpoint"),  # signs the head: part of the trail itself
        ("audit", "export"),  # the trail for an auditor: names and counts, no data
        ("audit", "list"),
        ("audit", "verify"),
        ("consent", "count"),
        ("consent", "notice", "list"),
        ("consent", "proof"),
        ("consent", "show"),
        ("customers", "count"),
        ("fields", "list"),
        ("incident", "list"),
        ("incident", "register"),
        ("incident", "show"),
        ("keys", "status"),
        ("policy", "check"),
        ("policy", "explain"),
        ("policy", "test"),
        ("principals", "list"),
        ("relay",),  # serves; each message's decision is audited by the relay (actor relay)
        ("serve",),
    }
)


@dataclass
class World:
    home: Path
    tmp: Path
    customer: str = ""
    email: str = ""
    key_id: str = ""
    incident: str = ""


Args = Callable[[World], list[str]]


def _notice(world: World) -> list[str]:
    path = world.tmp / "notice.yaml"
    path.write_text(
        "key: newsletter2\npurposes: [marketing.communications.email]\n"
        "title: {en: News, cs: Novinky, ur: خبریں}\n"
        "text: {en: Our news., cs: Naše novinky., ur: ہماری خبریں۔}\n",
        encoding="utf-8",
    )
    return ["consent", "notice", "add", str(path), "--by", "dpo"]


def _import(world: World) -> list[str]:
    path = world.tmp / "more.csv"
    path.write_text("first_name,last_name,email\nIva,Malá,iva.mala@example.cz\n", encoding="utf-8")
    return ["customers", "import", str(path), "--collected-for", "essential.service"]


def _scan(world: World) -> list[str]:
    path = world.tmp / "note.txt"
    path.write_text("The meeting moved to Thursday.\n", encoding="utf-8")
    return ["scan", str(path), "--recipient", "tomas.kral", "--purpose", "essential.service"]


MARKETING = "marketing.communications.email"
# Each state-changing command: its arguments, and the audit action it must leave.  In
# this order (later ones use what earlier ones made).
CHANGES: dict[Path_, tuple[Args, str]] = {
    ("init",): (lambda w: ["--home", str(w.tmp / "fresh"), "init"], "vault.init"),
    ("upgrade",): (lambda w: ["upgrade"], "vault.upgrade"),
    ("demo",): (
        lambda w: ["--home", str(w.tmp / "demo"), "demo", "--customers", "5"],
        "customer.import",
    ),
    ("customers", "import"): (_import, "customer.import"),
    ("customers", "find"): (lambda w: ["customers", "find", "--email", w.email], "customer.lookup"),
    ("principals", "add"): (
        lambda w: ["principals", "add", "bob.novak", "--role", "customer_service"],
        "principal.add",
    ),
    ("principals", "key"): (lambda w: ["principals", "key", "bob.novak"], "key.issue"),
    ("principals", "rotate"): (lambda w: ["principals", "rotate", "bob.novak"], "key.rotate"),
    ("principals", "revoke"): (lambda w: ["principals", "revoke", w.key_id], "key.revoke"),
    ("keys", "rotate"): (lambda w: ["keys", "rotate"], "key.rotate"),
    ("keys", "retire"): (lambda w: ["keys", "retire", "1"], "key.retire"),
    ("fields", "verify"): (
        lambda w: [
            "fields",
            "verify",
            "city",
            "--classification",
            "confidential",
            "--by",
            "dpo",
            "--reason",
            "Reviewed with the DPO today.",
        ],
        "field.classify",
    ),
    ("consent", "notice", "add"): (_notice, "consent.notice"),
    ("consent", "grant"): (
        lambda w: [
            "consent",
            "grant",
            w.customer,
            "--purpose",
            MARKETING,
            "--notice",
            "newsletter2",
            "--by",
            "dpo",
        ],
        "consent.grant",
    ),
    ("consent", "withdraw"): (
        lambda w: ["consent", "withdraw", w.customer, "--purpose", MARKETING, "--by", "dpo"],
        "consent.withdraw",
    ),
    ("consent", "object"): (
        lambda w: ["consent", "object", w.customer, "--purpose", "marketing", "--by", "dpo"],
        "consent.object",
    ),
    ("consent", "restrict"): (
        lambda w: ["consent", "restrict", w.customer, "--by", "dpo"],
        "consent.restrict",
    ),
    ("consent", "link"): (lambda w: ["consent", "link", w.customer], "consent.link"),
    ("consent", "request"): (
        lambda w: [
            "consent",
            "request",
            "--purpose",
            "marketing.communications.email",
            "--out",
            str(w.tmp / "ask.csv"),
        ],
        "consent.request",
    ),
    ("incident", "report"): (
        lambda w: ["incident", "report", "-d", "A list was printed and left on a desk."],
        "incident.report",
    ),
    ("incident", "assign"): (
        lambda w: ["incident", "assign", w.incident, "sana.malik"],
        "incident.assign",
    ),
    ("incident", "assess"): (
        lambda w: ["incident", "assess", w.incident, "--customers", "3"],
        "incident.assess",
    ),
    ("incident", "note"): (
        lambda w: ["incident", "note", w.incident, "Called the IT desk."],
        "incident.note",
    ),
    ("incident", "draft-notice"): (
        lambda w: ["incident", "draft-notice", w.incident],
        "incident.",
    ),
    ("incident", "transition"): (
        lambda w: ["incident", "transition", w.incident, "triaged"],
        "incident.transition",
    ),
    ("incident", "aware"): (
        lambda w: ["incident", "aware", w.incident, "2026-01-05T09:30+01:00"],
        "incident.aware",
    ),
    ("incident", "check"): (lambda w: ["incident", "check"], "incident.check"),
    # every verdict, before it is shown (a block also opens an incident)
    ("scan",): (_scan, "egress.scan"),
}


def _leaves(command: Any, prefix: Path_ = ()) -> Iterator[Path_]:
    # Newer Typer carries its own click copy: a group is whatever has sub-commands.
    subcommands = getattr(command, "commands", None)
    if subcommands is not None:
        for name, sub in subcommands.items():
            yield from _leaves(sub, (*prefix, name))
    else:
        yield prefix


def test_every_command_is_classified() -> None:
    found = set(_leaves(typer.main.get_command(build())))
    assert found, "no commands found"
    unclassified = found - READS - set(CHANGES)
    assert not unclassified, f"say whether these change state: {sorted(unclassified)}"
    assert not READS & set(CHANGES)
    assert not (READS | set(CHANGES)) - found, "classified commands that no longer exist"


def _run(home: Path, args: list[str]) -> Any:
    result = CliRunner().invoke(
        build(), [*args, "--json"] if "--json" not in args else args, env=_env(home)
    )
    assert result.exit_code == 0, (args, result.output, result.exception)
    return json.loads(result.stdout) if result.stdout.strip().startswith(("{", "[")) else None


def _env(home: Path) -> dict[str, str]:
    return {"PRIVAULT_HOME": str(home), "PRIVAULT_DATABASE_URL": ""}


def _newest(home: Path) -> int:
    rows = _run(home, ["audit", "list", "--limit", "1"])
    return int(rows[0]["seq"]) if rows else 0


def _since(home: Path, seq: int) -> list[dict[str, Any]]:
    rows = _run(home, ["audit", "list", "--limit", "200"])
    return [r for r in rows if int(r["seq"]) > seq]


@pytest.fixture
def world(tmp_path: Path) -> World:
    home = tmp_path / "home"
    _run(home, ["demo", "--customers", "5"])
    return World(home=home, tmp=tmp_path)


def test_each_change_exits_0_and_leaves_its_entry(world: World) -> None:
    me = operator()
    for path, (args, action) in CHANGES.items():
        given = args(world)
        home = world.home
        if given[0] == "--home":
            home = Path(given[1])
        before = _newest(home) if (home / "keys.json").exists() else 0
        answer = _run(world.home, given)
        new = _since(home, before)
        assert any(e["action"].startswith(action) for e in new), (path, [e["action"] for e in new])
        assert all(e["actor"] == me for e in new if e["action"].startswith(action)), (path, new)
        _remember(world, path, answer)


def _remember(world: World, path: Path_, answer: Any) -> None:
    if path == ("customers", "import"):
        world.email = "iva.mala@example.cz"
    elif path == ("customers", "find"):
        world.customer = answer[0]["customer"]
    elif path == ("principals", "rotate"):
        world.key_id = answer["key_id"]
    elif path == ("incident", "report"):
        world.incident = answer["id"]


def test_as_records_the_operator_and_the_principal(world: World) -> None:
    _run(world.home, ["--as", "sana.malik", "customers", "find", "--email", "nobody@example.cz"])
    (entry,) = _since(world.home, _newest(world.home) - 1)
    assert entry["action"] == "customer.lookup"
    assert (entry["actor"], entry["on_behalf_of"]) == (operator(), "sana.malik")
    assert entry["principal"] == "sana.malik"
    unknown = CliRunner().invoke(
        build(), ["--as", "nobody.here", "customers", "count"], env=_env(world.home)
    )
    assert unknown.exit_code != 0


def test_nothing_changes_when_the_entry_cannot_be_written(world: World) -> None:
    settings = Settings(home=world.home)
    with open_vault(settings) as vault, vault.engine.begin() as connection:
        connection.execute(
            text(
                "CREATE TRIGGER no_audit BEFORE INSERT ON audit_entries "
                "BEGIN SELECT RAISE(ABORT, 'audit trail unavailable'); END"
            )
        )
    failed = CliRunner().invoke(
        build(), ["principals", "add", "eve.cerna", "--role", "billing"], env=_env(world.home)
    )
    assert failed.exit_code != 0
    with open_vault(settings) as vault:
        assert "eve.cerna" not in vault.principals.stored()
        assert vault.principals.keys("eve.cerna") == []
    out = world.tmp / "ask.csv"
    failed = CliRunner().invoke(
        build(),
        ["consent", "request", "--purpose", MARKETING, "--out", str(out)],
        env=_env(world.home),
    )
    assert failed.exit_code != 0
    assert not out.exists() and not list(world.tmp.glob("ask.csv*"))
