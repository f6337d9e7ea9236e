"""Import and decryption throughput on SQLite and PostgreSQL.

    python bench/ingest.py [--customers 100000] [--db sqlite,postgresql] [--repeat 3]

Imports N generated customers with 5 fields each (first and last name, e-mail, phone,
city) through the real CSV importer -- validation, per-customer data keys, sealing,
blind indexes, batched inserts -- then decrypts every field through
``CustomerService.fetch_many``.  Prints the median of ``--repeat`` runs.
Targets on the 2-core reference machine: >= 10,000 customers/s, >= 150,000 fields/s.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

from privault.clock import SystemClock
from privault.crypto import create_key_file
from privault.demo.generator import DemoGenerator
from privault.runtime import open_vault
from privault.settings import Settings
from privault.store import make_engine, upgrade

FIELDS = ("first_name", "last_name", "email", "phone", "city")
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def write_source(path: Path, count: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(FIELDS)
        for row in DemoGenerator(seed=11).customers(count):
            writer.writerow([row[f] for f in FIELDS])


def one_run(backend: str, source: Path, count: int, workdir: Path) -> tuple[float, float]:
    home = workdir / uuid.uuid4().hex
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    url = None
    if backend == "postgresql":
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = f"{POSTGRES}?options=-csearch_path%3D{schema}"
    settings = Settings(home=home, database_url=url)
    try:
        create_key_file(settings.effective_key_file)
        engine = make_engine(settings)
        upgrade(engine)
        engine.dispose()
        vault = open_vault(settings, SystemClock())
        started = time.perf_counter()
        report = vault.importer(source, actor="cli:bench", collected_for=["essential.service"])
        import_seconds = time.perf_counter() - started
        assert report.accepted == count, report.errors[:3]
        ids = [ref.id for ref in vault.customers.page(limit=10_000)]
        while len(ids) < count:
            ids += [ref.id for ref in vault.customers.page(limit=10_000, after=ids[-1])]
        started = time.perf_counter()
        opened = sum(
            sum(v is not None for v in values.values())
            for _, values in vault.customers.fetch_many(ids, list(FIELDS))
        )
        decrypt_seconds = time.perf_counter() - started
        vault.close()
        return count / import_seconds, opened / decrypt_seconds
    finally:
        if backend == "postgresql":
            with admin.connect() as connection:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        source = workdir / "source.csv"
        write_source(source, args.customers)
        print(f"{args.customers:,} customers x {len(FIELDS)} fields, median of {args.repeat} runs")
        print(f"{'backend':<12} {'import customers/s':>20} {'decrypt fields/s':>18}")
        for backend in args.db.split(","):
            runs = [one_run(backend, source, args.customers, workdir) for _ in range(args.repeat)]
            imported = statistics.median(r[0] for r in runs)
            decrypted = statistics.median(r[1] for r in runs)
            print(f"{backend:<12} {imported:>20,.0f} {decrypted:>18,.0f}")


if __name__ == "__main__":
    main()
