"""The trail in the database, on SQLite and PostgreSQL: append, checkpoint, tamper, export."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from privault.audit import AuditLog, Reason, VerifyReport, append, verify_export
from privault.audit.export import ENTRIES_FILE, MANIFEST_FILE
from privault.runtime import Vault
from privault.store.db import session_scope
from tests.audit.conftest import make_entry, new_keyring


def fill(log: AuditLog, n: int) -> None:
    log.record_many(make_entry(i) for i in range(1, n + 1))


def sql(log: AuditLog, statement: str, **params: object) -> None:
    with log.engine.begin() as connection:
        connection.execute(text(statement), params)


def broken(report: VerifyReport) -> tuple[int, Reason]:
    assert not report.ok and report.problem is not None, report
    return report.problem.seq, report.problem.reason


def test_append_checkpoint_and_verify(log: AuditLog) -> None:
    assert log.verify().ok  # empty
    first = log.record(make_entry(1))
    assert first.seq == 1
    fill(log, 24)
    with session_scope(log.engine) as session:  # inside a caller's transaction
        chained = log.append(session, make_entry(99))
    assert chained.seq == 26
    report = log.verify()
    assert report.ok, report.problem
    assert (report.entries, report.last_seq, report.checkpoints) == (26, 26, 2)  # at 10 and 20
    made = log.checkpoint()
    assert made.seq == 26 and log.checkpoint().signature == made.signature  # no duplicate
    assert log.verify().last_checkpoint == 26
    newest = log.entries(limit=3)
    assert [c.seq for c in newest] == [26, 25, 24]
    assert newest[0].entry == make_entry(99)
    assert log.head() == (26, bytes.fromhex(report.head_hash))


def test_module_level_append_without_checkpoints(vault: Vault) -> None:
    with session_scope(vault.engine) as session:
        assert append(session, make_entry(1)).seq == 1
    assert vault.audit.verify().ok


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        (
            "UPDATE audit_entries SET body = replace(body, 'allowed', 'denied') WHERE seq = 7",
            (7, Reason.HASH_MISMATCH),
        ),
        ("UPDATE audit_entries SET hash = prev_hash WHERE seq = 7", (7, Reason.HASH_MISMATCH)),
        ("DELETE FROM audit_entries WHERE seq = 7", (7, Reason.MISSING_ENTRY)),
        # reorder: entries 7 and 8 swap places (their sequence numbers)
        (
            "UPDATE audit_entries SET seq = CASE seq WHEN 7 THEN 1007 ELSE 1008 END "
            "WHERE seq IN (7, 8); UPDATE audit_entries SET seq = 1015 - seq WHERE seq > 1000",
            (7, Reason.BROKEN_LINK),
        ),
        # remove the last entries (and put the head back, as a careful attacker would)
        (
            "DELETE FROM audit_entries WHERE seq > 17; "
            "UPDATE audit_head SET seq = 17, "
            "hash = (SELECT hash FROM audit_entries WHERE seq = 17)",
            (18, Reason.TRUNCATED),
        ),
        # remove the last entries but forget the head
        ("DELETE FROM audit_entries WHERE seq > 23", (24, Reason.TRUNCATED)),
        (
            "UPDATE audit_checkpoints SET hash = (SELECT hash FROM audit_entries WHERE seq = 9) "
            "WHERE seq = 10",
            (10, Reason.BAD_CHECKPOINT_SIGNATURE),
        ),
    ],
    ids=[
        "edit-body",
        "edit-hash",
        "delete",
        "reorder",
        "truncate",
        "truncate-no-head",
        "checkpoint",
    ],
)
def test_tampering_in_the_database_is_detected(
    log: AuditLog, tamper: str, expected: tuple[int, Reason]
) -> None:
    fill(log, 25)
    log.checkpoint()  # signs 25
    assert log.verify().ok
    for statement in tamper.split("; "):
        sql(log, statement)
    assert broken(log.verify()) == expected


def test_head_row_out_of_step_is_detected(log: AuditLog) -> None:
    fill(log, 25)  # checkpoints at 10 and 20 only
    sql(log, "DELETE FROM audit_entries WHERE seq > 23")
    assert broken(log.verify()) == (24, Reason.HEAD_MISMATCH)


def test_appending_after_a_cut_leaves_a_visible_gap(log: AuditLog) -> None:
    fill(log, 5)
    sql(log, "DELETE FROM audit_entries WHERE seq > 3")
    log.record(make_entry(6))
    assert broken(log.verify()) == (4, Reason.MISSING_ENTRY)


def test_checkpoints_from_another_key_are_not_trusted(log: AuditLog) -> None:
    fill(log, 3)
    AuditLog(log.engine, new_keyring(), log.clock).checkpoint()
    assert broken(log.verify()) == (3, Reason.UNTRUSTED_CHECKPOINT_KEY)


def exported(log: AuditLog, tmp_path: Path, n: int = 25) -> Path:
    fill(log, n)
    report = log.export(tmp_path / "export")
    assert report.entries == n
    return tmp_path / "export"


def test_export_verifies_without_a_database(log: AuditLog, tmp_path: Path) -> None:
    directory = exported(log, tmp_path)
    key = log.signer.public_signing_key()
    report = verify_export(directory, {key})
    assert report.ok and report.entries == 25 and report.last_checkpoint == 25
    assert verify_export(directory).public_keys == (key.hex(),)
    assert broken(verify_export(directory, {new_keyring().public_signing_key()}))[1] is (
        Reason.UNTRUSTED_CHECKPOINT_KEY
    )


def _edit_lines(directory: Path, change: str) -> None:
    path = directory / ENTRIES_FILE
    lines = path.read_bytes().splitlines(keepends=True)
    if change == "edit":
        lines[6] = lines[6].replace(b'"allowed"', b'"denied"')
    elif change == "delete":
        del lines[6]
    elif change == "swap":
        lines[6], lines[7] = lines[7], lines[6]
    elif change == "truncate":
        del lines[20:]
    elif change == "truncate-manifest":
        del lines[20:]
        manifest = (directory / MANIFEST_FILE).read_text()
        (directory / MANIFEST_FILE).write_text(manifest.replace('"last_seq": 25', '"last_seq": 20'))
    elif change == "garbage":
        lines[6] = b"not json at all\n"
    path.write_bytes(b"".join(lines))


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("edit", (7, Reason.HASH_MISMATCH)),
        ("delete", (7, Reason.MISSING_ENTRY)),
        ("swap", (7, Reason.MISSING_ENTRY)),
        ("truncate", (21, Reason.TRUNCATED)),
        ("truncate-manifest", (21, Reason.TRUNCATED)),
        ("garbage", (7, Reason.MALFORMED)),
    ],
)
def test_tampering_with_an_export_is_detected(
    log: AuditLog, tmp_path: Path, change: str, expected: tuple[int, Reason]
) -> None:
    directory = exported(log, tmp_path)
    _edit_lines(directory, change)
    assert broken(verify_export(directory, {log.signer.public_signing_key()})) == expected


def test_an_independent_reimplementation_agrees(log: AuditLog, tmp_path: Path) -> None:
    """What an auditor writes from the documentation alone (see ``audit.export``)."""
    import hashlib
    import json

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    def canon(value: object) -> bytes:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

    directory = exported(log, tmp_path, 23)
    key = Ed25519PublicKey.from_public_bytes(log.signer.public_signing_key())
    signed = {}
    for line in (directory / "checkpoints.jsonl").read_text().splitlines():
        c = json.loads(line)
        message = canon(
            {
                "at": c["at"],
                "hash": c["hash"],
                "seq": c["seq"],
                "type": "privault.audit.checkpoint",
                "v": 1,
            }
        )
        key.verify(bytes.fromhex(c["signature"]), message)
        signed[c["seq"]] = c["hash"]
    prev, n = bytes(32), 0
    for n, line in enumerate((directory / ENTRIES_FILE).read_text().splitlines(), 1):
        e = json.loads(line)
        assert e["seq"] == n and bytes.fromhex(e["prev"]) == prev
        prev = hashlib.sha256(prev + canon(e["entry"])).digest()
        assert prev.hex() == e["hash"] and signed.get(n, e["hash"]) == e["hash"]
    assert n == 23 and max(signed) == 23 and set(signed) == {10, 20, 23}
