"""Verifying in worker processes gives exactly the report of one process, entry by entry.

Blocks are tiny here and the parent waits until the worker has taken the back half of
them, so that every tampering lands in a worker's block as often as in the parent's.
Each report is compared with a reference: ``ChainVerifier.feed``, one entry at a time.
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete, insert, select, text

from privault.audit import AuditLog, Reason, VerifyReport, parallel, verify_database, verify_export
from privault.audit import export as export_module
from privault.audit import log as log_module
from privault.audit.blocks import read_lines
from privault.audit.chain import read_checkpoints, read_head
from privault.audit.export import ENTRIES_FILE
from privault.audit.models import CHECKPOINTS, ENTRIES, HEAD
from privault.audit.parallel import Parallel
from privault.audit.verify import ChainVerifier
from privault.runtime import Vault
from tests.audit.conftest import make_entry

SEQUENTIAL = Parallel.off()
WORKERS = Parallel(workers=1, block=6, minimum=0)
ENTRIES_IN_CHAIN = 60  # ten blocks of six
EXAMPLES = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
Tamper = Callable[[Engine], None]


@pytest.fixture
def patient(monkeypatch: pytest.MonkeyPatch) -> None:
    """The parent starts only once workers have taken the back half of the blocks (or
    after a few seconds), so that their answers are joined in every run."""
    start = parallel.Workers.__init__

    def wait_for_workers(self: parallel.Workers, *args: Any) -> None:
        start(self, *args)
        deadline = time.monotonic() + 20
        while self.blocks.back > self.blocks.count // 2 and time.monotonic() < deadline:
            time.sleep(0.002)

    monkeypatch.setattr(parallel.Workers, "__init__", wait_for_workers)


@pytest.fixture
def joined(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Records whether each worker answer was taken whole."""
    calls: list[bool] = []
    real = parallel.join_answer

    def spy(verifier: ChainVerifier, answer: dict[str, Any]) -> bool:
        calls.append(real(verifier, answer))
        return calls[-1]

    monkeypatch.setattr(log_module, "join_answer", spy)
    monkeypatch.setattr(export_module, "join_answer", spy)
    return calls


def reference(engine: Engine, keys: set[bytes]) -> VerifyReport:
    """One entry at a time, through ORM-free SQLAlchemy: what every path must agree with."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(ENTRIES.c.seq, ENTRIES.c.hash, ENTRIES.c.body, ENTRIES.c.prev_hash).order_by(
                ENTRIES.c.seq
            )
        ).all()
        verifier = ChainVerifier(read_checkpoints(connection), keys)
        head = read_head(connection)
    stored = {r.seq: bytes(r.prev_hash) for r in rows}
    verifier.feed(((r.seq, bytes(r.hash), r.body.encode()) for r in rows), stored.get)
    return verifier.finish(head if head is not None else (0, bytes(32)))


class Trail:
    """A filled trail whose tables are put back after each tampering."""

    def __init__(self, log: AuditLog) -> None:
        self.log = log
        self.engine = log.engine
        self.keys = {log.signer.public_signing_key()}
        log.record_many(make_entry(i) for i in range(1, ENTRIES_IN_CHAIN + 1))
        log.checkpoint()
        with self.engine.connect() as connection:
            self.saved = {
                t: [dict(r) for r in connection.execute(select(t)).mappings()]
                for t in (ENTRIES, CHECKPOINTS, HEAD)
            }

    def restore(self) -> None:
        with self.engine.begin() as connection:
            for table, rows in self.saved.items():
                connection.execute(delete(table))
                connection.execute(insert(table), rows)

    def sql(self, statement: str, **params: object) -> None:
        with self.engine.begin() as connection:
            connection.execute(text(statement), params)

    def row(self, seq: int) -> dict[str, Any]:
        return next(r for r in self.saved[ENTRIES] if r["seq"] == seq)


@pytest.fixture
def trail(log: AuditLog) -> Trail:
    return Trail(log)


def tamper_database(trail: Trail, data: st.DataObject) -> None:
    n = ENTRIES_IN_CHAIN
    seq = data.draw(st.integers(1, n), label="seq")
    kind = data.draw(
        st.sampled_from(
            [
                "edit",
                "rehash",
                "hash",
                "prev",
                "delete",
                "swap",
                "truncate",
                "truncate-head",
                "checkpoint",
                "early",
                "late",
                "none",
            ]
        ),
        label="kind",
    )
    row = trail.row(seq)
    if kind in ("edit", "rehash"):
        at = data.draw(st.integers(0, len(row["body"]) - 1))
        body = row["body"][:at] + ("x" if row["body"][at] != "x" else "y") + row["body"][at + 1 :]
        digest = (
            hashlib.sha256(bytes(row["prev_hash"]) + body.encode()).digest()
            if kind == "rehash"
            else bytes(row["hash"])
        )
        trail.sql(
            "UPDATE audit_entries SET body = :b, hash = :h WHERE seq = :s", b=body, h=digest, s=seq
        )
    elif kind == "hash":
        trail.sql("UPDATE audit_entries SET hash = :h WHERE seq = :s", h=os.urandom(32), s=seq)
    elif kind == "prev":  # not part of the chain hash: no problem, but both must agree
        trail.sql("UPDATE audit_entries SET prev_hash = :h WHERE seq = :s", h=os.urandom(32), s=seq)
    elif kind == "delete":
        trail.sql("DELETE FROM audit_entries WHERE seq = :s", s=seq)
    elif kind == "swap":
        other = data.draw(st.integers(1, n).filter(lambda s: s != seq), label="other")
        trail.sql("UPDATE audit_entries SET seq = -1 WHERE seq = :a", a=seq)
        trail.sql("UPDATE audit_entries SET seq = :a WHERE seq = :b", a=seq, b=other)
        trail.sql("UPDATE audit_entries SET seq = :b WHERE seq = -1", b=other)
    elif kind.startswith("truncate"):
        trail.sql("DELETE FROM audit_entries WHERE seq > :s", s=seq)
        if kind == "truncate-head":
            trail.sql("UPDATE audit_head SET seq = :s, hash = :h", s=seq, h=bytes(row["hash"]))
    elif kind == "checkpoint":
        trail.sql(
            "UPDATE audit_checkpoints SET hash = :h WHERE id = (SELECT min(id) FROM "
            "audit_checkpoints WHERE seq >= :s)",
            h=os.urandom(32),
            s=seq,
        )
    elif kind in ("early", "late"):  # an entry inserted below 1 or past the end
        at = data.draw(st.integers(-3, 0)) if kind == "early" else n + data.draw(st.integers(1, 9))
        trail.sql(
            "INSERT INTO audit_entries (seq, body, prev_hash, hash) VALUES (:s, :b, :p, :h)",
            s=at,
            b=row["body"],
            p=bytes(row["prev_hash"]),
            h=bytes(row["hash"]),
        )


@EXAMPLES
@given(data=st.data())
def test_workers_report_what_one_process_reports(
    trail: Trail, patient: None, data: st.DataObject
) -> None:
    tamper_database(trail, data)
    try:
        expected = reference(trail.engine, trail.keys)
        assert verify_database(trail.engine, trail.keys, parallel=SEQUENTIAL) == expected
        assert verify_database(trail.engine, trail.keys, parallel=WORKERS) == expected
    finally:
        trail.restore()


def test_workers_take_their_blocks_whole(trail: Trail, patient: None, joined: list[bool]) -> None:
    report = verify_database(trail.engine, trail.keys, parallel=WORKERS)
    assert report.ok and report.entries == ENTRIES_IN_CHAIN
    assert len(joined) >= 4 and all(joined)  # the back half came from the worker


def test_a_worker_that_fails_changes_nothing_but_speed(
    trail: Trail, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text("import sys; sys.exit(3)\n")
    monkeypatch.setattr(parallel, "WORKER_PROGRAM", str(broken))
    assert verify_database(trail.engine, trail.keys, parallel=WORKERS).ok
    trail.sql("DELETE FROM audit_entries WHERE seq = 50")
    report = verify_database(trail.engine, trail.keys, parallel=WORKERS)
    assert report.problem is not None
    assert (report.problem.seq, report.problem.reason) == (50, Reason.MISSING_ENTRY)


def test_workers_see_one_snapshot_while_entries_are_appended(trail: Trail) -> None:
    stop = threading.Event()

    def append() -> None:
        i = ENTRIES_IN_CHAIN
        while not stop.is_set():
            i += 1
            trail.log.record(make_entry(i))

    writer = threading.Thread(target=append)
    writer.start()
    try:
        for _ in range(5):
            report = verify_database(
                trail.engine, trail.keys, parallel=Parallel(workers=2, block=4, minimum=0)
            )
            assert report.ok, report.problem
            assert report.entries >= ENTRIES_IN_CHAIN
    finally:
        stop.set()
        writer.join()


# -- exports ------------------------------------------------------------------------------


@pytest.fixture
def exported(trail: Trail, tmp_path: Path) -> Iterator[Path]:
    trail.log.export(tmp_path / "export")
    yield tmp_path / "export"


def line_by_line(directory: Path, keys: set[bytes]) -> VerifyReport:
    """The export's reference: every line through the regular expression."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(export_module, "parse_lines", lambda *_args: None)
        return verify_export(directory, keys, parallel=SEQUENTIAL)


def tamper_lines(lines: list[bytes], data: st.DataObject) -> list[bytes]:
    i = data.draw(st.integers(0, len(lines) - 1), label="line")
    kind = data.draw(
        st.sampled_from(
            [
                "byte",
                "delete",
                "swap",
                "duplicate",
                "truncate",
                "garbage",
                "crlf",
                "upper",
                "zero-seq",
                "no-final-newline",
                "blank",
                "none",
            ]
        ),
        label="kind",
    )
    line = lines[i]
    if kind == "byte":
        at = data.draw(st.integers(0, len(line) - 2))
        lines[i] = line[:at] + (b"0" if line[at : at + 1] != b"0" else b"1") + line[at + 1 :]
    elif kind == "delete":
        del lines[i]
    elif kind == "swap":
        j = data.draw(st.integers(0, len(lines) - 1))
        lines[i], lines[j] = lines[j], lines[i]
    elif kind == "duplicate":
        lines.insert(i, line)
    elif kind == "truncate":
        del lines[i:]
    elif kind == "garbage":
        lines[i] = b"not json at all\n"
    elif kind == "crlf":  # still one of ours, read the slow way
        lines[i] = line[:-1] + b"\r\n"
    elif kind == "upper":  # the regular expression wants lowercase hex
        at = line.rindex(b'"hash":"') + 8
        lines[i] = line[:at] + line[at : at + 64].upper() + line[at + 64 :]
    elif kind == "zero-seq":  # still one of ours, read the slow way
        at = line.rindex(b'"seq":') + 6
        lines[i] = line[:at] + b"0" + line[at:]
    elif kind == "no-final-newline":
        lines[-1] = lines[-1].rstrip(b"\n")
    elif kind == "blank":
        lines.insert(i, b"\n")
    return lines


@EXAMPLES
@given(data=st.data())
def test_export_workers_report_what_one_process_reports(
    trail: Trail, exported: Path, patient: None, data: st.DataObject
) -> None:
    path = exported / ENTRIES_FILE
    original = path.read_bytes()
    try:
        path.write_bytes(b"".join(tamper_lines(original.splitlines(keepends=True), data)))
        expected = line_by_line(exported, trail.keys)
        assert verify_export(exported, trail.keys, parallel=SEQUENTIAL) == expected
        workers = Parallel(workers=1, block=len(original) // 10, minimum=0)
        assert verify_export(exported, trail.keys, parallel=workers) == expected
    finally:
        path.write_bytes(original)


def test_export_workers_take_their_blocks_whole(
    trail: Trail, exported: Path, patient: None, joined: list[bool]
) -> None:
    size = (exported / ENTRIES_FILE).stat().st_size
    report = verify_export(
        exported, trail.keys, parallel=Parallel(workers=2, block=size // 10, minimum=0)
    )
    assert report.ok and report.entries == ENTRIES_IN_CHAIN
    assert len(joined) >= 4 and all(joined)


@settings(max_examples=200)
@given(
    st.lists(st.binary(max_size=12).map(lambda b: b.replace(b"\n", b"")), max_size=12),
    st.booleans(),
    st.integers(1, 40),
)
def test_blocks_of_bytes_hold_each_line_once(
    lines: list[bytes], final_newline: bool, step: int
) -> None:
    data = b"\n".join(lines) + (b"\n" if final_newline and lines else b"")
    source = io.BytesIO(data)
    found: list[bytes] = []
    for lo in range(0, len(data), step):
        found += read_lines(source, lo, min(lo + step, len(data)))[0]
    expected = data.split(b"\n")
    if not expected[-1]:
        expected.pop()
    assert found == expected


def test_verify_and_export_stream_in_blocks(
    vault: Vault, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Memory follows the block size, not the length of the trail."""
    import tracemalloc

    log = AuditLog(vault, checkpoint_every=1000)
    total = 30_000
    for start in range(0, total, 5_000):
        log.record_many(make_entry(i) for i in range(start, start + 5_000))
    keys = {log.signer.public_signing_key()}
    size = sum(len(make_entry(i).body(i + 1)) for i in range(0, total, 100)) * 100
    small = Parallel(workers=0, block=500, minimum=0)
    monkeypatch.setattr(export_module, "EXPORT_BLOCK", 500)
    tracemalloc.start()
    try:
        for run in (
            lambda: verify_database(log.engine, keys, parallel=small),
            lambda: log.export(tmp_path / "export"),
            lambda: verify_export(
                tmp_path / "export", keys, parallel=Parallel(workers=0, block=256 << 10, minimum=0)
            ),
        ):
            tracemalloc.reset_peak()
            baseline = tracemalloc.get_traced_memory()[0]
            run()
            assert tracemalloc.get_traced_memory()[1] - baseline < size / 4
    finally:
        tracemalloc.stop()
