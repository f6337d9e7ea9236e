"""Engines and sessions, built from settings on demand (never at import time)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from privault.errors import N_, ConfigError
from privault.settings import Settings


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(settings: Settings, **kwargs: Any) -> Engine:
    """An engine for the configured store: SQLite in WAL mode, or PostgreSQL."""
    url = settings.effective_database_url
    if url.startswith("sqlite"):
        settings.home.mkdir(parents=True, exist_ok=True, mode=0o700)
    elif not url.startswith("postgresql"):
        raise ConfigError(
            N_("Unsupported database URL scheme; use sqlite:/// or postgresql+psycopg://")
        )
    try:
        engine = create_engine(url, future=True, **kwargs)
    except (ArgumentError, ImportError) as exc:
        raise ConfigError(
            N_("Invalid database URL: %(reason)s"), reason=type(exc).__name__
        ) from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error."""
    factory = sessionmaker(engine, expire_on_commit=False)
    with factory() as session, session.begin():
        yield session
