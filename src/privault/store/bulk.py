"""Fast bulk inserts for large imports: psycopg ``COPY`` on PostgreSQL, the driver's
``executemany`` on SQLite.  SQLAlchemy's per-row type processing is skipped, so values
must already be in the driver's form: str, int, bytes, aware UTC datetimes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session


def _sqlite_value(value: Any) -> Any:
    # Same text form SQLAlchemy's SQLite DateTime uses, so ORM reads see identical values.
    if isinstance(value, datetime):
        return (
            value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
        )
    return value


@cache
def _adapt_datetimes() -> None:
    """Let the sqlite3 driver write aware datetimes itself (in C, per value), in the
    same text form as SQLAlchemy; registered on first use, not at import."""
    sqlite3.register_adapter(datetime, _sqlite_value)


def bulk_insert(
    session: Session, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Insert ``rows`` (tuples in ``columns`` order) in the session's transaction."""
    if not rows:
        return
    connection = session.connection()
    raw = connection.connection.dbapi_connection
    assert raw is not None
    names = ", ".join(columns)
    if connection.dialect.name == "postgresql":
        cursor = raw.cursor()
        try:
            with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        finally:
            cursor.close()
        return
    _adapt_datetimes()
    placeholders = ", ".join("?" for _ in columns)
    statement = f"INSERT INTO {table.name} ({names}) VALUES ({placeholders})"  # noqa: S608 -- names are ours
    cursor = raw.cursor()
    try:
        cursor.executemany(
            statement,
            rows,
        )
    finally:
        cursor.close()
