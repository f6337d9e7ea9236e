"""The store holds no plaintext customer data: the SQLite file and a PostgreSQL dump are
searched for every e-mail, phone number and name of an imported demo set."""

from __future__ import annotations

import csv
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import text

from privault.catalog.kinds import canonical
from privault.demo.generator import write_csv
from privault.runtime import Vault


def _store_bytes(vault: Vault, tmp_path: Path) -> bytes:
    url = vault.settings.effective_database_url
    if url.startswith("sqlite"):
        with vault.engine.connect() as connection:
            connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        vault.engine.dispose()
        database = Path(url.removeprefix("sqlite:///"))
        return b"".join(p.read_bytes() for p in database.parent.glob(database.name + "*"))
    parts = urlsplit(url.replace("postgresql+psycopg", "postgresql"))
    schema = parse_qs(parts.query)["options"][0].split("=", 1)[1]
    dump = subprocess.run(
        [
            "pg_dump",
            "--data-only",
            "-n",
            schema,
            "-h",
            parts.hostname or "127.0.0.1",
            "-p",
            str(parts.port or 5432),
            "-U",
            parts.username or "postgres",
            parts.path.lstrip("/"),
        ],
        check=True,
        capture_output=True,
    )
    assert b"COPY" in dump.stdout  # the dump really contains the tables' rows
    return dump.stdout


def test_no_plaintext_email_phone_or_name_in_the_store(vault: Vault, tmp_path: Path) -> None:
    source = write_csv(tmp_path / "demo.csv", 300, seed=7)
    report = vault.importer(source, actor="cli:test", collected_for=["essential.service"])
    assert report.accepted == 300
    needles: set[str] = set()
    with source.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            needles.update({row["email"], row["email"].lower(), canonical("phone", row["phone"])})
            needles.add(f"{row['first_name']} {row['last_name']}")
            needles.update(n for n in (row["first_name"], row["last_name"]) if len(n.encode()) >= 6)
            needles.add(row["iban"].replace(" ", ""))
    haystack = _store_bytes(vault, tmp_path)
    assert len(haystack) > 100_000
    found = [n for n in needles if n.encode("utf-8") in haystack]
    assert found == []
