"""Appending to the chain, inside the caller's transaction, and signing checkpoints.

Appenders serialise on the single ``audit_head`` row: the first statement of an append
is ``UPDATE audit_head SET seq = seq ... RETURNING seq, hash``, which takes the row lock
on PostgreSQL (other workers wait until this transaction ends, then read the new head)
and the database write lock on SQLite.  The entry rows and the new head are written in
the same transaction, so a chain position is either taken and committed or not taken
at all: no gaps, no forks, and sequence numbers commit in order.

The lock is held until the caller's transaction ends, so callers append last, just
before they commit (the access gate: decide, append, commit, then return data).  Any
database failure becomes ``AuditUnavailable`` and the caller's transaction must not
go on (fail closed).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from privault.audit.canonical import GENESIS, chain_hash, checkpoint_message, format_time
from privault.audit.entry import AuditEntry
from privault.audit.models import CHECKPOINTS, ENTRIES, HEAD
from privault.errors import AuditUnavailable
from privault.store import driver

HEAD_ID = 1
INSERT_BATCH = 5000

Executor = Session | Connection


class Signer(Protocol):
    """What signs checkpoints: ``privault.crypto.Keyring`` (or a test double)."""

    def sign(self, message: bytes) -> bytes: ...

    def public_signing_key(self) -> bytes: ...


@dataclass(frozen=True, slots=True)
class ChainedEntry:
    """An entry as stored: its position, exact canonical body and chain hashes."""

    seq: int
    entry: AuditEntry
    body: str
    prev_hash: bytes
    hash: bytes


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed statement "entry ``seq`` is the chain head and has hash ``hash``"."""

    seq: int
    hash: bytes
    at: datetime
    public_key: bytes
    signature: bytes

    def message(self) -> bytes:
        return checkpoint_message(self.seq, self.hash, self.at)

    def as_json(self) -> dict[str, Any]:
        return {
            "at": format_time(self.at),
            "hash": self.hash.hex(),
            "public_key": self.public_key.hex(),
            "seq": self.seq,
            "signature": self.signature.hex(),
            "v": 1,
        }


def sign_checkpoint(signer: Signer, seq: int, head: bytes, at: datetime) -> Checkpoint:
    return Checkpoint(
        seq, head, at, signer.public_signing_key(), signer.sign(checkpoint_message(seq, head, at))
    )


# The append path runs on every audited request: its three statements go straight to
# the driver (``store.driver``), inside the caller's transaction.
_LOCK_HEAD = driver.Statement(
    update(HEAD)
    .where(HEAD.c.id == bindparam("head_id"))
    .values(seq=HEAD.c.seq)
    .returning(HEAD.c.seq, HEAD.c.hash)
)
_INSERT_ENTRY = driver.Statement(
    insert(ENTRIES).values(
        seq=bindparam("e_seq"),
        body=bindparam("e_body"),
        prev_hash=bindparam("e_prev"),
        hash=bindparam("e_hash"),
    )
)
_SET_HEAD = driver.Statement(
    update(HEAD)
    .where(HEAD.c.id == bindparam("head_id"))
    .values(seq=bindparam("new_seq"), hash=bindparam("new_hash"))
)


def _connection(executor: Executor) -> Connection:
    return executor.connection() if isinstance(executor, Session) else executor


def _lock_head(executor: Executor) -> tuple[int, bytes]:
    """Lock the chain head and return it, creating it (seq 0, genesis) on first use."""
    connection = _connection(executor)
    found = _LOCK_HEAD.rows(connection, head_id=HEAD_ID)
    if not found:
        make = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
        connection.execute(
            make(HEAD).values(id=HEAD_ID, seq=0, hash=GENESIS).on_conflict_do_nothing()
        )
        found = _LOCK_HEAD.rows(connection, head_id=HEAD_ID)
        if not found:  # pragma: no cover - the row was just created
            raise AuditUnavailable()
    return int(found[0][0]), bytes(found[0][1])


def append_many(
    executor: Executor,
    entries: Iterable[AuditEntry],
    *,
    signer: Signer | None = None,
    checkpoint_every: int = 0,
) -> list[ChainedEntry]:
    """Append entries in order within the caller's transaction.

    With ``checkpoint_every = N`` (and a ``signer``), every entry whose sequence number
    is a multiple of N also gets a signed checkpoint, in the same transaction.
    Raises ``AuditUnavailable`` if anything cannot be written.
    """
    batch = list(entries)
    if not batch:
        return []
    if checkpoint_every < 0 or (checkpoint_every and signer is None):
        raise ValueError("automatic checkpoints need a positive interval and a signer")
    try:
        seq, prev = _lock_head(executor)
        chained: list[ChainedEntry] = []
        rows: list[dict[str, Any]] = []
        checkpoints: list[Checkpoint] = []
        for entry in batch:
            seq += 1
            body = entry.body(seq)
            digest = chain_hash(prev, body.encode("utf-8"))
            rows.append({"e_seq": seq, "e_body": body, "e_prev": prev, "e_hash": digest})
            chained.append(ChainedEntry(seq, entry, body, prev, digest))
            prev = digest
            if checkpoint_every and seq % checkpoint_every == 0:
                assert signer is not None
                checkpoints.append(sign_checkpoint(signer, seq, digest, entry.at))
        connection = _connection(executor)
        for start in range(0, len(rows), INSERT_BATCH):
            _INSERT_ENTRY.execute_many(connection, rows[start : start + INSERT_BATCH])
        if checkpoints:
            executor.execute(insert(CHECKPOINTS), [_checkpoint_row(c) for c in checkpoints])
        _SET_HEAD.rows(connection, head_id=HEAD_ID, new_seq=seq, new_hash=prev)
    except SQLAlchemyError as exc:
        raise AuditUnavailable() from exc
    return chained


def append(
    executor: Executor,
    entry: AuditEntry,
    *,
    signer: Signer | None = None,
    checkpoint_every: int = 0,
) -> ChainedEntry:
    """Append one entry within the caller's transaction; ``AuditUnavailable`` on failure."""
    return append_many(executor, [entry], signer=signer, checkpoint_every=checkpoint_every)[0]


def _checkpoint_row(checkpoint: Checkpoint) -> dict[str, Any]:
    return {
        "seq": checkpoint.seq,
        "hash": checkpoint.hash,
        "at": checkpoint.at,
        "public_key": checkpoint.public_key,
        "signature": checkpoint.signature,
    }


def checkpoint(executor: Executor, signer: Signer, at: datetime) -> Checkpoint:
    """Sign the current head now (on demand).  If the newest checkpoint already covers
    this head with this key, that one is returned instead of a duplicate."""
    try:
        seq, head = _lock_head(executor)
        last = executor.execute(
            select(CHECKPOINTS).order_by(CHECKPOINTS.c.id.desc()).limit(1)
        ).first()
        key = signer.public_signing_key()
        if (
            last is not None
            and last.seq == seq
            and bytes(last.hash) == head
            and (bytes(last.public_key) == key)
        ):
            return Checkpoint(seq, head, last.at, key, bytes(last.signature))
        made = sign_checkpoint(signer, seq, head, at)
        executor.execute(insert(CHECKPOINTS), [_checkpoint_row(made)])
    except SQLAlchemyError as exc:
        raise AuditUnavailable() from exc
    return made


def read_checkpoints(executor: Executor) -> list[Checkpoint]:
    rows = executor.execute(select(CHECKPOINTS).order_by(CHECKPOINTS.c.id)).all()
    return [
        Checkpoint(r.seq, bytes(r.hash), r.at, bytes(r.public_key), bytes(r.signature))
        for r in rows
    ]


def read_head(executor: Executor) -> tuple[int, bytes] | None:
    row = executor.execute(select(HEAD.c.seq, HEAD.c.hash).where(HEAD.c.id == HEAD_ID)).first()
    return None if row is None else (int(row[0]), bytes(row[1]))


def read_entries(
    executor: Executor, *, limit: int, before: int | None = None
) -> list[ChainedEntry]:
    """The newest ``limit`` entries (optionally before a sequence number), newest first."""
    query = select(ENTRIES.c.seq, ENTRIES.c.body, ENTRIES.c.prev_hash, ENTRIES.c.hash)
    if before is not None:
        query = query.where(ENTRIES.c.seq < before)
    rows = executor.execute(query.order_by(ENTRIES.c.seq.desc()).limit(limit)).all()
    return [
        ChainedEntry(
            r.seq,
            AuditEntry.from_json(json.loads(r.body)),
            r.body,
            bytes(r.prev_hash),
            bytes(r.hash),
        )
        for r in rows
    ]


def snapshot(engine: Engine) -> Connection:
    """A connection reading one consistent snapshot (for verify and export).

    PostgreSQL: a REPEATABLE READ transaction.  SQLite: an explicit read transaction
    (WAL keeps its snapshot while writers go on).  The caller closes it.
    """
    if engine.dialect.name == "postgresql":
        connection = engine.connect().execution_options(isolation_level="REPEATABLE READ")
        connection.begin()
        return connection
    connection = engine.connect()
    connection.exec_driver_sql("BEGIN")
    return connection


__all__ = [
    "ChainedEntry",
    "Checkpoint",
    "Executor",
    "Signer",
    "append",
    "append_many",
    "checkpoint",
    "read_checkpoints",
    "read_entries",
    "read_head",
    "sign_checkpoint",
    "snapshot",
]
