"""Engines and sessions, built from settings on demand (never at import time)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from privault.errors import N_, ConfigError

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: SQLite's busy handler alone
    fcntl = None  # type: ignore[assignment]
from privault.settings import Settings


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA cache_size=-65536")  # 64 MiB of page cache per connection
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
    # Connections enough for the requests a worker serves at once: an overflow
    # connection is closed on return, and on PostgreSQL opening one forks a server
    # process (a pool of 10 under 16 concurrent reads per worker: 650 req/s; 20: 920).
    kwargs.setdefault("pool_size", settings.database_pool_size)
    kwargs.setdefault("max_overflow", settings.database_max_overflow)
    try:
        engine = create_engine(url, future=True, **kwargs)
    except (ArgumentError, ImportError) as exc:
        raise ConfigError(
            N_("Invalid database URL: %(reason)s"), reason=type(exc).__name__
        ) from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    elif settings.statement_timeout_seconds is not None:
        milliseconds = max(1, round(settings.statement_timeout_seconds * 1000))

        def _statement_timeout(dbapi_connection: Any, _record: Any) -> None:
            # Once per new connection (pooled), in its own committed transaction, so a
            # later rollback does not undo it.
            with dbapi_connection.cursor() as cursor:
                cursor.execute(f"SET statement_timeout = {milliseconds}")
            dbapi_connection.commit()

        event.listen(engine, "connect", _statement_timeout)
    return engine


class _Writer:
    """One process's turn at writing a SQLite database: a thread lock, then an
    ``flock`` on a file beside the database, held by the outermost ``write_lock``.

    SQLite admits one writer and lets the others poll: its busy handler sleeps in steps
    of up to 100 ms, which under load (several API workers) turns into long tails.  A
    blocking ``flock`` queues the processes in the kernel instead and wakes the next
    one as soon as the lock is released.  It only orders writers that use it; SQLite's
    own locking still guarantees correctness for any that do not.
    """

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.lock = threading.RLock()
        self.depth = 0
        self._fds: dict[str, tuple[int, int]] = {}  # lock file -> (pid, descriptor)
        self.probe_lock = threading.Lock()  # never held across a write

    def _descriptor(self, suffix: str = "") -> int | None:
        """This process's descriptor of the lock file ``<path><suffix>`` (a forked
        child opens its own)."""
        if self.path is None or fcntl is None:
            return None
        found = self._fds.get(suffix)
        if found is None or found[0] != os.getpid():
            found = (os.getpid(), os.open(self.path + suffix, os.O_RDWR | os.O_CREAT, 0o600))
            self._fds[suffix] = found
        return found[1]

    @contextmanager
    def held(self) -> Iterator[None]:
        with self.lock:
            fd = self._descriptor() if self.depth == 0 else None
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            self.depth += 1
            try:
                yield
            finally:
                self.depth -= 1
                if fd is not None:
                    fcntl.flock(fd, fcntl.LOCK_UN)

    @contextmanager
    def long(self) -> Iterator[None]:
        """Mark a long series of writes (an import, a key rotation) for its whole
        duration: a shared ``flock`` on a second file, on a descriptor of its own."""
        if self.path is None or fcntl is None:
            yield
            return
        fd = os.open(f"{self.path}.long", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH)
            yield
        finally:
            os.close(fd)  # releases the lock

    def long_running(self) -> bool:
        """Whether any thread or process is inside ``long`` now.  A probe: it takes and
        drops an exclusive lock on the marker without waiting."""
        with self.probe_lock:
            probe = self._descriptor(".long")
            if probe is None:
                return False
            try:
                fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(probe, fcntl.LOCK_UN)
            return False


def _writer_path(engine: Engine) -> str | None:
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return f"{Path(database).resolve()}-writer.lock"


# One writer per database file in this process (engines on the same file share it, so
# a thread holding it through one engine re-enters through another), and one per
# engine for in-memory databases.
_BY_PATH: dict[str, _Writer] = {}
_BY_ENGINE: WeakKeyDictionary[Engine, _Writer] = WeakKeyDictionary()
_GUARD = threading.Lock()


def _writer(engine: Engine) -> _Writer:
    with _GUARD:
        found = _BY_ENGINE.get(engine)
        if found is None:
            path = _writer_path(engine)
            found = _Writer(None) if path is None else _BY_PATH.setdefault(path, _Writer(path))
            _BY_ENGINE[engine] = found
        return found


@contextmanager
def write_lock(engine: Engine) -> Iterator[None]:
    """Serialise write transactions on SQLite: threads of this process on a lock, and
    processes on an ``flock`` beside the database (see ``_Writer``).  On PostgreSQL this
    does nothing: row locks do the work there.
    """
    if engine.dialect.name != "sqlite":
        yield
        return
    with _writer(engine).held():
        yield


@contextmanager
def reads(engine: Engine) -> Iterator[Connection]:
    """A pooled connection for a few reads that need no transaction of their own (the
    access gate's single-customer read).  On PostgreSQL it runs in autocommit: no
    ``BEGIN`` before the first statement and no ``ROLLBACK`` on return, two round trips
    saved, and each statement sees the latest committed data, as it would in a READ
    COMMITTED transaction.  SQLite's driver opens no transaction for a read anyway."""
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execution_options(isolation_level="AUTOCOMMIT")
        yield connection


@contextmanager
def long_writes(engine: Engine) -> Iterator[None]:
    """Declare a long series of SQLite writes (each still in ``write_lock``), so that
    callers who would rather not wait behind it can tell (``long_writes_running``)."""
    if engine.dialect.name != "sqlite":
        yield
        return
    with _writer(engine).long():
        yield


def long_writes_running(engine: Engine) -> bool:
    """Whether a ``long_writes`` series is under way on this SQLite database, in any
    process (always False on PostgreSQL)."""
    return engine.dialect.name == "sqlite" and _writer(engine).long_running()


def analyze(engine: Engine, tables: tuple[str, ...]) -> None:
    """Refresh the planner's statistics after a bulk load.

    Without them PostgreSQL plans lookups on freshly loaded tables as if they were
    empty (measured: decryption of 100,000 customers 2.5x slower until analysed).
    """
    with write_lock(engine), engine.begin() as connection:
        for table in tables:
            connection.exec_driver_sql(f"ANALYZE {table}")


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One write transaction: commit on success, roll back on any error."""
    factory = sessionmaker(engine, expire_on_commit=False)
    with write_lock(engine), factory() as session, session.begin():
        yield session


@contextmanager
def bulk_load(engine: Engine) -> Iterator[Callable[[], AbstractContextManager[Session]]]:
    """A long series of write transactions (an import) on one dedicated connection.

    Yields a factory of write transactions, each atomic and committed like
    ``session_scope``.  On SQLite the WAL is not checkpointed between them but once at
    the end: a checkpoint copies the WAL into the database and fsyncs both, SQLite runs
    one every ~4 MB of WAL by default (some twenty in an import of 100,000 customers),
    and they took ~40% of the import's time on the reference machine.  Commits are not
    fsynced on their own in WAL mode with synchronous=NORMAL, so the final checkpoint
    is what makes the whole load durable, as an automatic one would have.
    """
    with long_writes(engine), engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            previous = connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one()
            connection.exec_driver_sql("PRAGMA wal_autocheckpoint=0")
            connection.commit()

        @contextmanager
        def transaction() -> Iterator[Session]:
            with (
                write_lock(engine),
                Session(bind=connection, expire_on_commit=False) as session,
                session.begin(),
            ):
                yield session

        try:
            yield transaction
        finally:
            if sqlite:
                connection.rollback()  # nothing is pending; leaves no transaction open
                connection.exec_driver_sql(f"PRAGMA wal_autocheckpoint={int(previous)}")
                connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
                connection.commit()
