"""Audit trail throughput: appends/s and verify entries/s, on SQLite and PostgreSQL.

    .venv/bin/python bench/audit.py                       # 1,000,000 entries on SQLite
    .venv/bin/python bench/audit.py --db all --pg-entries 200000

Builds a chain of N entries (batched appends, checkpoint every 1,000), then measures:
single appends (one transaction each, as a request would), verify from the database,
export, and verify of the export.  Target: verify >= 300,000 entries/s.  Verify runs
once to warm the page cache, then ``--repeat`` times; the table shows the median (on a
shared machine single runs vary by a factor of two).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, create_engine, text

from privault.audit import AuditEntry, AuditLog, Kind, Outcome, VerifyReport, verify_export
from privault.clock import FixedClock
from privault.crypto import FileKeyProvider, create_key_file, open_keyring
from privault.settings import Settings
from privault.store import make_engine, upgrade

POSTGRES_URL = os.environ.get(
    "PRIVAULT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
BATCH = 10_000


def entry(i: int) -> AuditEntry:
    return AuditEntry(
        at=T0 + timedelta(milliseconds=i),
        kind=Kind.DECISION,
        action="read",
        principal=f"svc-{i % 7}",
        outcome=Outcome.ALLOWED if i % 5 else Outcome.DENIED,
        purpose="essential.service.support",
        fields=("email", "phone"),
        categories=("user.contact.email", "user.contact.phone_number"),
        subjects=(f"cus_{i:016x}",),
        reasons=() if i % 5 else ("not_authorised",),
        details={"request_id": f"req-{i:x}"},
    )


@contextmanager
def database(backend: str, home: Path) -> Iterator[Engine]:
    if backend == "sqlite":
        engine = make_engine(Settings(home=home))
        try:
            yield engine
        finally:
            engine.dispose()
        return
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in POSTGRES_URL else "?"
    url = f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    engine = make_engine(Settings(home=home, database_url=url))
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}" if seconds > 0 else "-"


def median_rate(verify: Callable[[], VerifyReport], total: int, repeat: int) -> str:
    """Entries per second, the median of ``repeat`` runs after a warm-up run."""
    rates = []
    for attempt in range(repeat + 1):
        started = time.perf_counter()
        report = verify()
        elapsed = time.perf_counter() - started
        if not report.ok or report.entries != total:
            raise SystemExit(f"verify failed: {report.problem}")
        if attempt:
            rates.append(total / elapsed)
    return f"{statistics.median(rates):,.0f}"


def run(
    backend: str, entries: int, singles: int, repeat: int, out: Console
) -> list[tuple[str, ...]]:
    work = Path(tempfile.mkdtemp(prefix=f"privault-audit-{backend}-"))
    rows: list[tuple[str, ...]] = []
    try:
        key_file = work / "keys.json"
        create_key_file(key_file)
        keyring = open_keyring(FileKeyProvider(key_file))
        with database(backend, work) as engine:
            upgrade(engine)
            log = AuditLog(engine, keyring, FixedClock(T0), checkpoint_every=1000)

            started = time.perf_counter()
            for start in range(0, entries, BATCH):
                log.record_many(entry(i) for i in range(start, min(entries, start + BATCH)))
                if out.is_terminal:  # a redirected run gets the table alone
                    out.print(f"  {backend}: {min(entries, start + BATCH):,} entries", end="\r")
            rows.append(
                (
                    backend,
                    f"append, batches of {BATCH:,}",
                    f"{entries:,}",
                    rate(entries, time.perf_counter() - started),
                )
            )

            started = time.perf_counter()
            for i in range(singles):
                log.record(entry(entries + i))
            rows.append(
                (
                    backend,
                    "append, one transaction each",
                    f"{singles:,}",
                    rate(singles, time.perf_counter() - started),
                )
            )
            total = entries + singles

            rows.append(
                (backend, "verify (database)", f"{total:,}", median_rate(log.verify, total, repeat))
            )

            started = time.perf_counter()
            log.export(work / "export")
            elapsed = time.perf_counter() - started
            rows.append((backend, "export", f"{total:,}", rate(total, elapsed)))

        key = keyring.public_signing_key()
        rows.append(
            (
                backend,
                "verify --from export",
                f"{total:,}",
                median_rate(lambda: verify_export(work / "export", {key}), total, repeat),
            )
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "all"), default="sqlite")
    parser.add_argument("--entries", type=int, default=1_000_000, help="chain length (SQLite)")
    parser.add_argument("--pg-entries", type=int, default=200_000, help="chain length (PG)")
    parser.add_argument("--singles", type=int, default=2_000, help="single-entry appends")
    parser.add_argument("--repeat", type=int, default=5, help="verify runs (median)")
    args = parser.parse_args()
    out = Console()
    backends = ("sqlite", "postgresql") if args.db == "all" else (args.db,)
    rows: list[tuple[str, ...]] = []
    for backend in backends:
        entries = args.entries if backend == "sqlite" else args.pg_entries
        rows += run(backend, entries, args.singles, args.repeat, out)
    table = Table(
        "database",
        "operation",
        "entries",
        "per second",
        title=f"privault audit trail ({os.cpu_count()} CPUs)",
    )
    for row in rows:
        table.add_row(*row)
    out.print(table)


if __name__ == "__main__":
    main()
