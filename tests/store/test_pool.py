"""Connections are kept, not reopened, while a process serves as many requests at once
as its pool holds: on PostgreSQL every connection opened costs the server a process."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import event, text

from privault.settings import Settings
from privault.store import make_engine


def test_concurrent_requests_up_to_the_pool_size_reuse_connections(settings: Settings) -> None:
    engine = make_engine(settings.model_copy(update={"database_pool_size": 12}))
    opened = 0
    lock = threading.Lock()

    @event.listens_for(engine, "connect")
    def count(_dbapi_connection: Any, _record: Any) -> None:
        nonlocal opened
        with lock:
            opened += 1

    all_in = threading.Barrier(12)

    def request(_: int) -> int:
        with engine.connect() as connection:
            all_in.wait(timeout=10)  # twelve connections checked out at the same moment
            return int(connection.execute(text("SELECT 1")).scalar_one())

    try:
        with ThreadPoolExecutor(12) as pool:
            for _ in range(5):
                assert sum(pool.map(request, range(12))) == 12
        assert engine.pool.size() == 12  # type: ignore[attr-defined]
        assert opened == 12  # five rounds, and no connection opened twice
    finally:
        engine.dispose()


def test_beyond_the_pool_overflow_connections_are_lent_and_closed(settings: Settings) -> None:
    engine = make_engine(
        settings.model_copy(update={"database_pool_size": 2, "database_max_overflow": 3})
    )
    all_in = threading.Barrier(5)

    def request(_: int) -> None:
        with engine.connect() as connection:
            all_in.wait(timeout=10)
            connection.execute(text("SELECT 1"))

    try:
        with ThreadPoolExecutor(5) as pool:
            list(pool.map(request, range(5)))
        assert engine.pool.checkedin() == 2  # type: ignore[attr-defined]
    finally:
        engine.dispose()
