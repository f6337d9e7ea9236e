"""Shared fixtures: one suite, every database.

Database tests take the ``db_url`` fixture (directly or through ``settings``/``vault``),
which is parametrised over SQLite and PostgreSQL.  ``--db sqlite`` or ``--db postgresql``
restricts the run; the default, used by CI, is both.  Each PostgreSQL test gets its own
schema (dropped afterwards), so tests never see each other's rows.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from privault.clock import FixedClock
from privault.crypto import create_key_file
from privault.runtime import Vault, open_vault
from privault.settings import Settings
from privault.store import make_engine, upgrade
from privault.store.vault_id import new_vault_id, record_vault_id

POSTGRES_URL = os.environ.get(
    "PRIVAULT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
BACKENDS = ("sqlite", "postgresql")


def wait_until(condition: Callable[[], bool], seconds: float = 10) -> None:
    """Poll ``condition`` (what another thread is doing) until it holds; fail after
    ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        action="store",
        default="all",
        choices=("all", *BACKENDS),
        help="database backend(s) for database tests (default: all)",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        chosen = metafunc.config.getoption("--db")
        backends = BACKENDS if chosen == "all" else (chosen,)
        metafunc.parametrize("backend", backends, scope="function")


@pytest.fixture
def db_url(backend: str, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'privault.db'}"
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        separator = "&" if "?" in POSTGRES_URL else "?"
        yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 22, 9, 0, tzinfo=UTC))


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return Settings(home=tmp_path / "home", database_url=db_url)


@pytest.fixture
def vault(settings: Settings, clock: FixedClock) -> Iterator[Vault]:
    """An initialised vault (key file + migrated schema) on the backend under test."""
    vault_id = new_vault_id()
    create_key_file(settings.effective_key_file, vault_id)
    engine = make_engine(settings)
    upgrade(engine)
    record_vault_id(engine, vault_id)
    engine.dispose()
    opened = open_vault(settings, clock)
    try:
        yield opened
    finally:
        opened.close()
