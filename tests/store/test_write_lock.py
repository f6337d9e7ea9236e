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

from privault.store.db import write_lock, writer_busy

HOLD_SECONDS = 0.6


def _hold(url: str, ready: Event) -> None:
    engine = create_engine(url)
    with write_lock(engine):
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
        assert writer_busy(create_engine(url))  # the probe sees the other process
        began = time.monotonic()
        with write_lock(create_engine(url)):
            waited = time.monotonic() - began
    finally:
        holder.join(60)
    assert holder.exitcode == 0
    assert not writer_busy(create_engine(url))  # released with the holder
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


def test_the_probe_sees_other_threads_and_takes_nothing(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'privault.db'}")
    assert not writer_busy(engine)
    with write_lock(engine):
        assert writer_busy(engine)  # this thread itself is inside a write
        seen: list[bool] = []
        thread = threading.Thread(target=lambda: seen.append(writer_busy(engine)))
        thread.start()
        thread.join(10)
    assert seen == [True]
    assert not writer_busy(engine)
    with write_lock(engine):  # probing left nothing held
        pass


def test_in_memory_and_postgresql_need_no_lock_file(tmp_path: Path) -> None:
    with write_lock(create_engine("sqlite://")):
        pass
    engine = create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/test")
    with write_lock(engine):  # no connection is made, no file written
        assert not writer_busy(engine)
    assert list(tmp_path.iterdir()) == []
