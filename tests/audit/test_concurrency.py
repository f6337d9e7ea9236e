"""Several processes appending at once leave one valid chain, with no gaps or forks."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from privault.audit import AuditLog
from privault.clock import FixedClock
from privault.crypto import FileKeyProvider, open_keyring
from privault.runtime import Vault
from privault.settings import Settings
from privault.store.db import make_engine, session_scope
from tests.audit.conftest import make_entry

PROCESSES = 3
EACH = 30


def worker(settings: dict[str, Any], number: int, start: Any) -> None:
    config = Settings(**settings)
    engine = make_engine(config)
    keyring = open_keyring(FileKeyProvider(config.effective_key_file))
    log = AuditLog(
        engine, keyring, FixedClock(datetime(2026, 11, 22, tzinfo=UTC)), checkpoint_every=7
    )
    start.wait(30)
    for i in range(EACH):
        entry = make_entry(i, principal=f"worker-{number}")
        if i % 2:
            log.record(entry)
        else:  # inside a caller's transaction that does other reading first
            with session_scope(engine) as session:
                session.connection().exec_driver_sql("SELECT 1")
                log.append(session, entry)
    engine.dispose()


def test_concurrent_processes_keep_one_chain(vault: Vault, settings: Settings) -> None:
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    config = {"home": str(settings.home), "database_url": settings.database_url}
    processes = [context.Process(target=worker, args=(config, n, start)) for n in range(PROCESSES)]
    for process in processes:
        process.start()
    start.set()
    for process in processes:
        process.join(120)
        assert process.exitcode == 0
    log = AuditLog(vault)
    report = log.verify()
    assert report.ok, report.problem
    assert report.entries == report.last_seq == PROCESSES * EACH
    assert report.checkpoints == PROCESSES * EACH // 7
    principals = {c.entry.principal for c in log.entries(limit=PROCESSES * EACH)}
    assert principals == {f"worker-{n}" for n in range(PROCESSES)}
    assert Path(settings.effective_key_file).exists()
