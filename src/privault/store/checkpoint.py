"""SQLite's WAL checkpoints, moved off the request path.

In WAL mode every commit appends to ``<db>-wal``; a *checkpoint* copies those pages
into the database file and fsyncs it.  By default SQLite runs one inside the commit
that takes the WAL past 1,000 pages, so every few seconds under load one request's
commit -- and, holding the writer lock meanwhile, every other worker's -- waits
10-16 ms for it (measured: the only commits over 5 ms in 15 s of audited reads at 32
clients, and enough of them to set the p99).

``WalCheckpointer`` runs a ``PASSIVE`` checkpoint every ``interval`` seconds on a
thread of its own.  A passive checkpoint never waits for readers or writers and never
blocks them (SQLite releases the GIL while it copies and syncs), so commits stay
short.  The engine's own connections keep an automatic checkpoint at a much larger
threshold (``BACKSTOP_PAGES``) as a backstop: should the thread fall behind, the WAL
is still bounded, and checkpointed the old way.

Several processes may run one each on the same database: SQLite lets one checkpoint
at a time and a passive one that finds another running simply reports it was busy.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger("privault.store")

# The automatic checkpoint left on the engine's connections: 16,384 pages (64 MiB of
# WAL at 4 KiB pages), sixteen times SQLite's default.
BACKSTOP_PAGES = 16_384


@dataclass(frozen=True)
class Checkpoint:
    """What one ``PRAGMA wal_checkpoint(PASSIVE)`` reported."""

    busy: bool  # another connection was checkpointing
    wal_pages: int  # pages in the WAL
    copied_pages: int  # pages of it now in the database file (all of them when equal)


def _backstop(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")
    cursor.close()


def checkpoint(engine: Engine) -> Checkpoint:
    """One passive checkpoint on a pooled connection of ``engine``."""
    with engine.connect() as connection:
        busy, wal, copied = connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()
    return Checkpoint(bool(busy), int(wal), int(copied))


class WalCheckpointer:
    """Checkpoints ``engine``'s SQLite WAL from a daemon thread every ``interval``
    seconds, once ``start``ed, until ``stop``.  Connections the engine opens after
    ``start`` checkpoint in their commits only past ``BACKSTOP_PAGES``."""

    def __init__(self, engine: Engine, interval: float) -> None:
        if engine.dialect.name != "sqlite":
            raise ValueError("WAL checkpoints are a SQLite matter")
        self.engine = engine
        self.interval = interval
        self.checkpoints = 0  # completed, whether or not they had pages to copy
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        event.listen(self.engine, "connect", _backstop)
        # Connections already pooled were opened with SQLite's default threshold.
        self.engine.dispose()
        self._thread = threading.Thread(
            target=self._run, name="privault-wal-checkpoint", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread (after the checkpoint under way, if any); connections
        opened from now on checkpoint in their commits again."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stop.set()
        thread.join()
        event.remove(self.engine, "connect", _backstop)
        self.engine.dispose()  # pooled connections go back to SQLite's own threshold

    def _run(self) -> None:
        failing = False
        while not self._stop.wait(self.interval):
            try:
                checkpoint(self.engine)
            except SQLAlchemyError as exc:
                # The next tick tries again; the backstop bounds the WAL meanwhile.
                if not failing:
                    cause = getattr(exc, "orig", None) or exc
                    log.warning("WAL checkpoint failed: %s", type(cause).__name__)
                failing = True
                continue
            failing = False
            self.checkpoints += 1
