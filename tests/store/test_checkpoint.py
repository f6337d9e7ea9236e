"""SQLite's WAL is checkpointed by a thread of the API worker, not inside a request's
commit (``store.checkpoint``), and the WAL stays bounded."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from privault.api.limits import WAL_CHECKPOINT_SECONDS
from privault.runtime import Vault
from privault.settings import Settings
from privault.store import checkpoint as checkpoints
from privault.store import make_engine
from privault.store.checkpoint import BACKSTOP_PAGES, WalCheckpointer, checkpoint
from tests.conftest import wait_until

PAGE = 4096
SQLITE_DEFAULT_PAGES = 1000  # SQLite's own wal_autocheckpoint


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    found = make_engine(Settings(home=tmp_path, database_url=f"sqlite:///{tmp_path}/wal.db"))
    with found.begin() as connection:
        connection.execute(text("CREATE TABLE filler (id INTEGER PRIMARY KEY, pad BLOB)"))
    return found


def write_pages(engine: Engine, pages: int) -> None:
    """Commit about ``pages`` pages of new rows, one small transaction at a time."""
    for _ in range(pages // 8):
        with engine.begin() as connection:
            connection.execute(
                text("INSERT INTO filler (pad) VALUES (randomblob(:n))"), {"n": 8 * PAGE}
            )


def wal_bytes(engine: Engine) -> int:
    return Path(f"{engine.url.database}-wal").stat().st_size


def test_without_it_commits_checkpoint_as_sqlite_does(engine: Engine) -> None:
    write_pages(engine, 3 * SQLITE_DEFAULT_PAGES)
    # The commit that crossed 1,000 pages copied the WAL into the database, and the
    # next one started the WAL file over: it never grew much past the threshold.
    assert wal_bytes(engine) < 1.5 * SQLITE_DEFAULT_PAGES * PAGE
    engine.dispose()


def test_commits_leave_the_checkpoint_to_the_thread(engine: Engine) -> None:
    idle = WalCheckpointer(engine, interval=3600)  # started, but never ticks in the test
    idle.start()
    try:
        with engine.connect() as connection:
            threshold = connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one()
        assert threshold == BACKSTOP_PAGES
        write_pages(engine, 3 * SQLITE_DEFAULT_PAGES)
        assert wal_bytes(engine) > 2.5 * SQLITE_DEFAULT_PAGES * PAGE  # no commit copied it
        done = checkpoint(engine)  # what a tick does
        assert not done.busy
        assert done.wal_pages >= 3 * SQLITE_DEFAULT_PAGES
        assert done.copied_pages == done.wal_pages  # all of it is in the database now
    finally:
        idle.stop()
    with engine.connect() as connection:  # stopped: new connections are SQLite's again
        threshold = connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one()
    assert threshold == SQLITE_DEFAULT_PAGES
    engine.dispose()


def test_the_thread_keeps_the_wal_bounded(engine: Engine) -> None:
    ticking = WalCheckpointer(engine, interval=0.01)
    ticking.start()
    try:
        for _ in range(6):
            write_pages(engine, SQLITE_DEFAULT_PAGES)
            # A tick that began after the round copies all of it into the database;
            # the next round's first writer then starts the WAL file over.
            ticks = ticking.checkpoints
            wait_until(lambda: ticking.checkpoints >= ticks + 2)  # noqa: B023
        # Six rounds of 1,000 pages, and the WAL file never held more than about one.
        assert wal_bytes(engine) < 1.5 * SQLITE_DEFAULT_PAGES * PAGE
        with engine.connect() as connection:
            rows = connection.exec_driver_sql("SELECT count(*) FROM filler").scalar_one()
        assert rows == 6 * (SQLITE_DEFAULT_PAGES // 8)
    finally:
        ticking.stop()
    assert not _checkpoint_threads()
    engine.dispose()


def test_a_failing_checkpoint_is_logged_once_and_retried(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    failures = 0

    def failing(_engine: Engine) -> checkpoints.Checkpoint:
        nonlocal failures
        failures += 1
        raise OperationalError("PRAGMA wal_checkpoint(PASSIVE)", {}, Exception("disk I/O"))

    monkeypatch.setattr(checkpoints, "checkpoint", failing)
    ticking = WalCheckpointer(engine, interval=0.01)
    with caplog.at_level(logging.WARNING, logger="privault.store"):
        ticking.start()
        try:
            wait_until(lambda: failures >= 5)  # the thread goes on after a failure
        finally:
            ticking.stop()
    warnings = [r.getMessage() for r in caplog.records]
    assert warnings == ["WAL checkpoint failed: Exception"]
    assert ticking.checkpoints == 0
    engine.dispose()


def test_the_api_checkpoints_sqlite_in_the_background(api_vault: Vault) -> None:
    assert api_vault.settings.sqlite_checkpoint_interval_seconds == WAL_CHECKPOINT_SECONDS
    if api_vault.engine.dialect.name == "sqlite":
        checkpointer = api_vault.checkpointer
        assert checkpointer is not None
        wait_until(lambda: checkpointer.checkpoints > 0)
        api_vault.close()
        assert not _checkpoint_threads()  # closing the vault stops it
    else:  # PostgreSQL has no WAL of ours to checkpoint
        assert api_vault.checkpointer is None


def test_postgresql_engines_are_refused(tmp_path: Path) -> None:
    url = "postgresql+psycopg://privault@127.0.0.1:5432/test"  # never connected to
    engine = make_engine(Settings(home=tmp_path, database_url=url))
    try:
        with pytest.raises(ValueError, match="SQLite"):
            WalCheckpointer(engine, interval=1)
    finally:
        engine.dispose()


def _checkpoint_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "privault-wal-checkpoint"]
