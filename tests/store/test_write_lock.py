"""SQLite writers of several processes queue on one lock instead of polling.

The API runs several worker processes over one SQLite file; each write transaction
(an audit batch, a consent change) takes ``write_lock``.  These tests pin that the lock
excludes other *processes* too (so they wait in the kernel, not in SQLite's sleeping
busy handler), that it is re-entrant within a thread, and that PostgreSQL is left to
its own row locks.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from multiprocessing.synchronize import Event
from pathlib import Path

from sqlalchemy import create_engine

from privault.store.db import long_writes, long_writes_running, write_lock

HOLD_SECONDS = 0.6


def _hold(url: str, ready: Event) -> None:
    engine = create_engine(url)
    with long_writes(engine), write_lock(engine):
        ready.set()
        time.sleep(HOLD_SECONDS)


def test_another_process_waits_for_the_writer(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'privault.db'}"
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    holder = context.Process(target=_hold, args=(url, ready))
    holder.start()
    try:
        assert ready.wait(60), "the holder process did not start"
        assert long_writes_running(create_engine(url))  # the probe sees the other process
        began = time.monotonic()
        with write_lock(create_engine(url)):
            waited = time.monotonic() - began
    finally:
        holder.join(60)
    assert holder.exitcode == 0
    assert not long_writes_running(create_engine(url))  # released with the holder
    # It waited for the holder's turn (minus the time between ready and our attempt).
    assert waited > HOLD_SECONDS / 3
    assert (tmp_path / "privault.db-writer.lock").exists()


def test_the_lock_is_reentrant_and_released(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'privault.db'}")
    with write_lock(engine), write_lock(engine):
        pass
    # Released: a second engine (as another process would) gets it at once.
    began = time.monotonic()
    with write_lock(create_engine(f"sqlite:///{tmp_path / 'privault.db'}")):
        assert time.monotonic() - began < HOLD_SECONDS / 3


def test_long_writes_are_seen_from_other_threads_and_probing_takes_nothing(
    tmp_path: Path,
) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'privault.db'}")
    assert not long_writes_running(engine)
    with write_lock(engine):
        assert not long_writes_running(engine)  # one short write is not a long series
    with long_writes(engine):
        seen: list[bool] = []
        thread = threading.Thread(target=lambda: seen.append(long_writes_running(engine)))
        thread.start()
        thread.join(10)
        assert seen == [True]
        assert long_writes_running(engine)
        with write_lock(engine):  # the writes themselves still take the writer lock
            pass
    assert not long_writes_running(engine)
    with long_writes(engine), long_writes(engine):  # series may nest or overlap
        assert long_writes_running(engine)
    assert not long_writes_running(engine)


def test_in_memory_and_postgresql_need_no_lock_file(tmp_path: Path) -> None:
    with write_lock(create_engine("sqlite://")):
        pass
    engine = create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/test")
    with write_lock(engine), long_writes(engine):  # no connection is made, no file written
        assert not long_writes_running(engine)
    assert list(tmp_path.iterdir()) == []
