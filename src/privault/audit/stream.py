"""Reading the chain fast: raw DB-API cursors, chunks, and a prefetching thread.

``verify`` must reach hundreds of thousands of entries a second, so rows are read as
plain driver tuples in large chunks (a server-side cursor on PostgreSQL, so memory stays
flat), never as ORM objects, while a background thread fetches the next chunk.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Generator, Iterator
from typing import Any, Final, TypeVar

from sqlalchemy import Connection

CHUNK: Final[int] = 20_000
_T = TypeVar("_T")
Columns = tuple[list[int], list[bytes], list[bytes], list[bytes]]


def _columns(rows: list[tuple[Any, ...]], encode: bool) -> Columns:
    # List comprehensions: several times faster than zip(*rows) on long chunks.
    bodies = [r[2] for r in rows]
    return (
        [r[0] for r in rows],
        [r[1] for r in rows],
        list(map(str.encode, bodies)) if encode else bodies,  # PostgreSQL returns text
        [r[3] for r in rows],
    )


def stream_rows(connection: Connection, *, chunk: int = CHUNK) -> Iterator[Columns]:
    """Entry rows in sequence order as columns ``(seqs, hashes, UTF-8 bodies, prev
    hashes)``, ``chunk`` rows at a time, through a raw DB-API cursor (a server-side
    cursor on PostgreSQL): no per-row objects beyond the driver's tuples."""
    raw = connection.connection.driver_connection
    if raw is None:  # pragma: no cover - a live connection always has one
        raise RuntimeError("no database connection")
    columns = "seq, hash, body, prev_hash"
    if connection.dialect.name == "postgresql":
        cursor = raw.cursor(name="privault_audit_stream")
        cursor.itersize = chunk
        encode = True
    else:
        columns = columns.replace("body", "CAST(body AS BLOB)")
        cursor = raw.cursor()
        encode = False
    try:
        cursor.execute(f"SELECT {columns} FROM audit_entries ORDER BY seq")  # noqa: S608
        while rows := cursor.fetchmany(chunk):
            yield _columns(rows, encode)
    finally:
        cursor.close()


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
