"""Driver-level reads for the hottest path (the access gate's single-customer read).

SQLAlchemy Core builds a cache key, sets up an execution context and post-processes
every row on each execution; on this kind of machine that costs ~0.2-0.3 ms per
statement, several times what SQLite needs for an indexed look-up.  A ``Statement``
is written in Core as usual, compiled once per dialect, and then run on the DBAPI
cursor of a connection SQLAlchemy checked out (pooling, transaction reset and
disposal stay SQLAlchemy's).  Parameters are plain strings and integers, and results
come back as the driver returns them: text, integers and bytes read alike on SQLite
and PostgreSQL; timestamps go through ``utc``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.expression import Executable

Param = str | int | bytes | None
Bound = tuple[Any, ...] | dict[str, Any]


class Statement:
    """A Core statement compiled once per dialect and run on the driver's cursor."""

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._compiled: dict[str, tuple[str, tuple[str, ...] | None]] = {}
        self._lock = threading.Lock()

    def _for(self, dialect: Dialect) -> tuple[str, tuple[str, ...] | None]:
        found = self._compiled.get(dialect.name)
        if found is None:
            compiled = self.statement.compile(dialect=dialect)  # type: ignore[attr-defined]
            order = tuple(compiled.positiontup) if compiled.positional else None
            found = (compiled.string, order)
            with self._lock:
                self._compiled[dialect.name] = found
        return found

    def _bind(self, order: tuple[str, ...] | None, params: Mapping[str, Param]) -> Bound:
        return tuple(params[name] for name in order) if order is not None else dict(params)

    def rows(self, connection: Connection, **params: Param) -> list[tuple[Any, ...]]:
        """Every row (none for a write without ``RETURNING``), straight from the driver."""
        sql, order = self._for(connection.dialect)
        bound = self._bind(order, params)
        with cursor_of(connection, sql, bound) as cursor:
            cursor.execute(sql, bound)
            return list(cursor.fetchall()) if cursor.description is not None else []

    def execute_many(self, connection: Connection, rows: Sequence[Mapping[str, Param]]) -> None:
        """The statement once per parameter set, in one driver call."""
        sql, order = self._for(connection.dialect)
        bound = [self._bind(order, row) for row in rows]
        with cursor_of(connection, sql, bound) as cursor:
            cursor.executemany(sql, bound)


@contextmanager
def cursor_of(
    connection: Connection, sql: str, params: object, *, binary: bool = False
) -> Iterator[Any]:
    """A driver cursor; driver errors become SQLAlchemy's ``DBAPIError`` (as they would
    through ``Connection.execute``), so callers keep one ``except SQLAlchemyError``.
    ``binary``: psycopg returns results in binary (bytea as raw bytes, not hex text)."""
    raw = connection.connection.driver_connection
    assert raw is not None
    dialect = connection.dialect
    cursor = None
    try:
        cursor = raw.cursor(binary=True) if binary else raw.cursor()  # fails if closed
        yield cursor
    except dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(
            sql, None, exc, dialect.loaded_dbapi.Error, dialect=dialect
        ) from exc
    finally:
        if cursor is not None:
            cursor.close()


def utc(value: datetime | str | None) -> datetime | None:
    """A stored ``UTCDateTime`` as SQLAlchemy would return it: aware, in UTC.

    SQLite holds ``YYYY-MM-DD HH:MM:SS.ffffff`` text (naive, UTC); psycopg returns an
    aware datetime.
    """
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


__all__ = ["Statement", "cursor_of", "utc"]
