"""Reading the chain fast: raw DB-API cursors, blocks of rows, and a prefetching thread.

``verify`` must reach hundreds of thousands of entries a second, so rows are read as
plain driver tuples, a block of sequence numbers at a time (memory stays flat), never as
ORM objects, while a background thread fetches the next block.  Only what the hash
needs is read: the stored hash and the body as UTF-8 bytes (PostgreSQL sends the text
in binary form, so it is neither decoded nor re-encoded).  Sequence numbers are implied:
``lo < seq <= hi`` holds ``hi - lo`` rows exactly when none is missing.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any, Final, TypeVar

from sqlalchemy import Connection

# Blocks must come straight from the primary-key index, in order.  Without statistics
# (a fresh bulk load) PostgreSQL otherwise picks a bitmap scan and sorts each block,
# on disk, which costs more than the rest of verify; this transaction only.
PG_SCAN_SETTINGS: Final = ("SET LOCAL enable_bitmapscan = off", "SET LOCAL enable_sort = off")
_T = TypeVar("_T")
Columns = tuple[list[int], list[bytes], list[bytes], list[bytes]]


def _columns(rows: list[tuple[Any, ...]]) -> Columns:
    # List comprehensions: several times faster than zip(*rows) on long chunks.
    return [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], [r[3] for r in rows]


def _raw(connection: Connection) -> Any:
    raw = connection.connection.driver_connection
    if raw is None:  # pragma: no cover - a live connection always has one
        raise RuntimeError("no database connection")
    return raw


class BlockReader:
    """Entries by blocks of sequence numbers, in the snapshot of ``connection``.

    Use it from one thread at a time (``prefetched`` hands it to its thread)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.raw = _raw(connection)
        self.postgresql = connection.dialect.name == "postgresql"
        if self.postgresql:
            for setting in PG_SCAN_SETTINGS:
                connection.exec_driver_sql(setting)
        body = "body" if self.postgresql else "CAST(body AS BLOB)"
        mark = "%s" if self.postgresql else "?"
        where = f"FROM audit_entries WHERE seq > {mark} AND seq <= {mark} ORDER BY seq"
        self._block = f"SELECT hash, {body} {where}"
        self._rows = f"SELECT seq, hash, {body}, prev_hash {where}"

    def bounds(self) -> tuple[int, int] | None:
        """The smallest and largest sequence numbers, or None if there are no entries."""
        row = self.connection.exec_driver_sql(
            "SELECT (SELECT min(seq) FROM audit_entries), (SELECT max(seq) FROM audit_entries)"
        ).one()
        return None if row[0] is None else (int(row[0]), int(row[1]))

    def _fetch(self, query: str, lo: int, hi: int) -> list[tuple[Any, ...]]:
        if self.postgresql:
            from psycopg.types.string import ByteaBinaryLoader

            cursor = self.raw.cursor(binary=True)
            cursor.adapters.register_loader("text", ByteaBinaryLoader)  # this cursor only
        else:
            cursor = self.raw.cursor()
        try:
            cursor.execute(query, (lo, hi))
            rows: list[tuple[Any, ...]] = cursor.fetchall()
        finally:
            cursor.close()
        return rows

    def block(self, lo: int, hi: int) -> tuple[list[bytes], list[bytes]]:
        """``(hashes, UTF-8 bodies)`` of the entries ``lo < seq <= hi``, in order."""
        rows = self._fetch(self._block, lo, hi)
        return [r[0] for r in rows], [r[1] for r in rows]

    def columns(self, lo: int, hi: int) -> Columns:
        """All of ``lo < seq <= hi``, with sequence numbers and stored previous hashes."""
        return _columns(self._fetch(self._rows, lo, hi))

    def worker_task(self) -> dict[str, Any] | None:
        """What a worker process needs to read the same entries (see
        ``privault.audit.blocks``), or None if it cannot (an in-memory database)."""
        if not self.postgresql:
            rows = self.connection.exec_driver_sql("PRAGMA database_list").all()
            path = next((r[2] for r in rows if r[1] == "main"), "")
            return {"source": "sqlite", "target": path} if path and Path(path).is_file() else None
        from psycopg.conninfo import make_conninfo

        snapshot = self.connection.exec_driver_sql("SELECT pg_export_snapshot()").scalar()
        table = self.connection.exec_driver_sql(
            "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE c.oid = 'audit_entries'::regclass"
        ).one()
        info = self.raw.info
        conninfo = make_conninfo(info.dsn, **({"password": info.password} if info.password else {}))
        return {
            "source": "postgresql",
            "target": conninfo,
            "snapshot": snapshot,
            "table": [table[0], table[1]],
            "settings": list(PG_SCAN_SETTINGS),
        }


def prefetched(chunks: Iterator[_T], depth: int = 4) -> Generator[_T, None, None]:
    """Run ``chunks`` in a background thread, ``depth`` chunks ahead.

    The database driver releases the GIL while it steps through rows, so fetching the
    next chunk overlaps with hashing this one.  Closing the returned generator stops
    the thread.  Nothing else may use the connection meanwhile."""
    slots: queue.Queue[tuple[bool, Any]] = queue.Queue(depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for chunk in chunks:
                while not stop.is_set():
                    try:
                        slots.put((True, chunk), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    break
            slots.put((False, None))
        except BaseException as exc:  # handed to the consumer, which re-raises it
            slots.put((False, exc))
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=produce, name="privault-audit-fetch", daemon=True)
    worker.start()
    try:
        while True:
            more, item = slots.get()
            if not more:
                if isinstance(item, BaseException):
                    raise item
                return
            yield item
    finally:
        stop.set()
        while worker.is_alive():
            with contextlib.suppress(queue.Empty):
                slots.get(timeout=0.1)
        worker.join()
