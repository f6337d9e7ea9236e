"""CSV import: bad input is reported row by row, valid rows stored, nothing half-written."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from privault.crypto import Keyring
from privault.errors import InvalidInput
from privault.runtime import Vault
from privault.store.tables import Customer

HEADER = "first_name,last_name,email,phone,city\n"
GOOD = [
    "Jana,Dvořáková,jana.dvorakova@example.com,602 111 222,Brno\n",
    "Zainab,Hussain,zainab.h@example.org,+92 300 1234567,Lahore\n",
    "Oliver,Smith,oliver.smith@example.net,+44 7911 123456,Leeds\n",
]


def _counts(vault: Vault) -> tuple[int, int]:
    with vault.engine.connect() as connection:
        customers = connection.execute(
            select(func.count()).select_from(Customer.__table__)
        ).scalar_one()
        records = connection.execute(select(Customer.__table__.c.sealed)).scalars().all()
    return int(customers), sum(len(Keyring.record_fields(r)) for r in records if r)


def _import(vault: Vault, path: Path, **kwargs: object) -> object:
    return vault.importer(path, actor="cli:test", collected_for=["essential.service"], **kwargs)  # type: ignore[arg-type]


def test_valid_rows_are_stored_invalid_ones_reported_by_line(vault: Vault, tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_text(
        HEADER
        + GOOD[0]
        + "Petr,Svoboda,not-an-email,602 333 444,Praha\n"  # line 3
        + GOOD[1]
        + "Eva,Malá,eva@example.com,12,Ostrava\n"  # line 5
        + GOOD[2]
        + "Karel,Novák,karel@example.com\n",  # line 7: too few columns
        encoding="utf-8",
    )
    report = _import(vault, path, required=["last_name"])
    assert report.accepted == 3  # type: ignore[attr-defined]
    assert [(e.line, e.reasons) for e in report.errors] == [  # type: ignore[attr-defined]
        (3, ("email: Not a valid e-mail address.",)),
        (5, ("phone: Not a valid phone number.",)),
        (7, ("has 3 columns, expected 5 (truncated or shifted row?)",)),
    ]
    assert _counts(vault) == (3, 15)
    assert "not-an-email" not in repr(report)


def test_wrong_encoding_is_reported_per_row(vault: Vault, tmp_path: Path) -> None:
    path = tmp_path / "cp1250.csv"
    path.write_bytes((HEADER + GOOD[0] + GOOD[2]).encode("cp1250"))
    report = _import(vault, path)
    assert report.accepted == 1  # type: ignore[attr-defined]
    assert report.errors[0].line == 2  # type: ignore[attr-defined]
    assert "not valid utf-8" in report.errors[0].reasons[0]  # type: ignore[attr-defined]
    # ... and with the right encoding the same file imports completely
    report = _import(vault, path, encoding="cp1250")
    assert report.accepted == 2 and report.rejected == 0  # type: ignore[attr-defined]


def test_utf16_file_is_refused_with_a_hint(vault: Vault, tmp_path: Path) -> None:
    path = tmp_path / "utf16.csv"
    path.write_bytes((HEADER + GOOD[0]).encode("utf-16"))
    with pytest.raises(InvalidInput, match="UTF-16"):
        _import(vault, path)
    assert _counts(vault) == (0, 0)


def test_missing_and_unknown_columns_refuse_the_whole_file(vault: Vault, tmp_path: Path) -> None:
    path = tmp_path / "cols.csv"
    path.write_text("first_name,email\nJana,jana@example.com\n")
    with pytest.raises(InvalidInput, match="missing required columns: last_name"):
        _import(vault, path, required=["last_name"])
    path.write_text("first_name,last_name,shoe_size\nJana,Malá,38\n")
    with pytest.raises(InvalidInput, match="unknown columns: shoe_size"):
        _import(vault, path)
    path.write_text("")
    with pytest.raises(InvalidInput, match="empty"):
        _import(vault, path)
    assert _counts(vault) == (0, 0)


def test_truncated_file_keeps_the_complete_rows(vault: Vault, tmp_path: Path) -> None:
    content = HEADER + GOOD[0] + GOOD[1] + '"Oliver","Smi'
    path = tmp_path / "truncated.csv"
    path.write_text(content)
    report = _import(vault, path)
    assert report.accepted == 2  # type: ignore[attr-defined]
    assert report.rejected == 1 and report.errors[0].line == 4  # type: ignore[attr-defined]
    assert _counts(vault) == (2, 10)


def test_semicolon_files_and_language_column(vault: Vault, tmp_path: Path) -> None:
    path = tmp_path / "semi.csv"
    path.write_text(
        "first_name;last_name;email;language\nJana;Malá;jana@example.com;cs\nAli;Raza;ali@example.com;xx\n"
    )
    report = _import(vault, path)
    assert report.accepted == 1  # type: ignore[attr-defined]
    assert report.errors[0].reasons == ("language: expected one of en, cs, ur",)  # type: ignore[attr-defined]
    (ref,) = vault.customers.find("email", "jana@example.com")
    assert ref.language == "cs"


def test_a_database_failure_rolls_back_the_whole_batch(vault: Vault, tmp_path: Path) -> None:
    path = tmp_path / "batch.csv"
    path.write_text(HEADER + "".join(GOOD))

    calls = 0
    original = vault.customers.insert_prepared

    def failing(session, records, collected_for):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        original(session, records, collected_for)
        raise RuntimeError("disk full")

    vault.customers.insert_prepared = failing  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        _import(vault, path)
    assert calls == 1
    assert _counts(vault) == (0, 0)


def test_parallel_preparation_gives_the_same_result(vault: Vault, tmp_path: Path) -> None:
    path = tmp_path / "parallel.csv"
    bad = "Petr,Svoboda,not-an-email,602 333 444,Praha\n"
    path.write_text(HEADER + (GOOD[0] + bad) * 1500 + GOOD[1], encoding="utf-8")
    report = vault.importer(path, actor="cli:test", collected_for=["essential.service"], workers=2)
    assert report.accepted == 1501 and report.rejected == 1500
    assert [e.line for e in report.errors[:3]] == [3, 5, 7]
    assert _counts(vault) == (1501, 1501 * 5)


def test_parallel_preparation_under_threads_uses_the_forkserver(
    vault: Vault, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With other threads running, workers are not forked from this process (unsafe)
    but started by the forkserver; the result is the same."""
    import threading

    from privault.customers import importer

    monkeypatch.setattr(threading, "active_count", lambda: 2)
    assert importer._worker_context().get_start_method() == "forkserver"
    path = tmp_path / "threaded.csv"
    path.write_text(HEADER + GOOD[0] * 300 + GOOD[2], encoding="utf-8")
    report = _import(vault, path, workers=2)
    assert report.accepted == 301  # type: ignore[attr-defined]
    assert _counts(vault) == (301, 301 * 5)
