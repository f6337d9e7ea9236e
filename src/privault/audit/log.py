"""``AuditLog``: the audit trail of one vault, for callers that do not hold a transaction.

Callers inside a transaction (the access gate) use ``log.append(session, entry)`` -- or
``privault.audit.append`` -- so that the entry commits or rolls back with their work;
``log.record(entry)`` opens its own transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Final, Protocol

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from privault.audit import chain
from privault.audit.acting import stamped
from privault.audit.chain import ChainedEntry, Checkpoint, Executor, Signer
from privault.audit.entry import AuditEntry
from privault.audit.export import ExportReport, export_snapshot
from privault.audit.group import GroupCommitter
from privault.audit.parallel import Blocks, Parallel, Workers, join_answer, signed_pairs
from privault.audit.stream import BlockReader, prefetched
from privault.audit.verify import ChainVerifier, VerifyReport
from privault.clock import Clock
from privault.errors import N_, AuditUnavailable, StoreError
from privault.store.db import write_lock

DEFAULT_CHECKPOINT_EVERY: Final[int] = 1000
N_STORE: Final[str] = N_("The audit trail could not be read.")


class VaultLike(Protocol):
    """What AuditLog takes from ``privault.runtime.Vault`` (without importing it)."""

    @property
    def engine(self) -> Engine: ...

    @property
    def keyring(self) -> Signer: ...

    @property
    def clock(self) -> Clock: ...


def verify_database(
    engine: Engine,
    trusted_keys: Collection[bytes] | None = None,
    *,
    parallel: Parallel | None = None,
) -> VerifyReport:
    """Verify the whole chain in one consistent snapshot, streaming the rows; a large
    trail in several processes (``privault.audit.parallel``)."""
    try:
        connection = chain.snapshot(engine)
        try:
            head = chain.read_head(connection)
            verifier = ChainVerifier(chain.read_checkpoints(connection), trusted_keys)
            reader = BlockReader(connection)
            _verify_rows(reader, verifier, parallel or Parallel.rows(reader.postgresql))
        finally:
            connection.close()
    except SQLAlchemyError as exc:
        raise StoreError(N_STORE) from exc
    # An empty trail may have no head row yet; that equals the genesis head.
    return verifier.finish(head if head is not None else (0, bytes(32)))


def _verify_rows(reader: BlockReader, verifier: ChainVerifier, parallel: Parallel) -> None:
    bounds = reader.bounds()
    if bounds is None:
        return
    start, last = min(bounds[0], 1) - 1, bounds[1]  # entries below 1 show in block 0
    size = parallel.block

    def span(index: int) -> tuple[int, int]:
        lo = start + index * size
        return lo, min(lo + size, last)

    blocks = Blocks(-(-(last - start) // size))
    workers: Workers | None = None
    if parallel.workers > 0 and last - start >= parallel.minimum and blocks.count > 1:
        task = reader.worker_task()
        if task is not None:
            task["signed"] = signed_pairs(verifier.signed.pairs())
            workers = Workers(parallel.workers, task, blocks, span)
    try:
        if not _verify_front(reader, verifier, blocks, span):
            return
        answers = workers.finish() if workers is not None else {}
        for index in range(blocks.back, blocks.count):
            answer = answers.get(index)
            if answer is not None and join_answer(verifier, answer):
                continue
            if not verifier.feed_columns(*reader.columns(*span(index))):
                return
    finally:
        if workers is not None:
            workers.close()


def _verify_front(
    reader: BlockReader,
    verifier: ChainVerifier,
    blocks: Blocks,
    span: Callable[[int], tuple[int, int]],
) -> bool:
    """Verify blocks from the front until they meet the workers'; False at a problem."""
    index = 0
    shared = blocks.back < blocks.count
    while True:
        chunks = prefetched(_front_blocks(reader, blocks, span, index), depth=2)
        try:
            for index, (hashes, bodies) in chunks:
                lo, hi = span(index)
                if len(hashes) != hi - lo or not verifier.try_block(lo + 1, hashes, bodies):
                    break  # not clean: see below, without the prefetching thread
                if shared:
                    verifier.check_from_the_end(lo + 1, hi + 1)
            else:
                return True
        finally:
            chunks.close()
        if not verifier.feed_columns(*reader.columns(*span(index))):
            return False
        index += 1


def _front_blocks(
    reader: BlockReader, blocks: Blocks, span: Callable[[int], tuple[int, int]], index: int
) -> Iterator[tuple[int, tuple[list[bytes], list[bytes]]]]:
    while index < blocks.front or blocks.take_front() is not None:
        yield index, reader.block(*span(index))
        index += 1


class BatchObserver(Protocol):
    """Called with every batch of entries inside the transaction that appends them (so
    whatever it writes commits or rolls back with the entries).  It must be cheap: it
    runs on the audited read path (``incidents.velocity.VelocityCounter``)."""

    def __call__(self, executor: Executor, entries: Sequence[AuditEntry]) -> None: ...


class AuditLog:
    """The audit trail of a vault (or of an engine, with a keyring and a clock)."""

    def __init__(
        self,
        source: VaultLike | Engine,
        keyring: Signer | None = None,
        clock: Clock | None = None,
        *,
        checkpoint_every: int = DEFAULT_CHECKPOINT_EVERY,
        observer: BatchObserver | None = None,
    ) -> None:
        if isinstance(source, Engine):
            if keyring is None or clock is None:
                raise TypeError("AuditLog(engine, ...) needs a keyring and a clock")
            self.engine = source
        else:
            self.engine = source.engine
            keyring = keyring or source.keyring
            clock = clock or source.clock
        assert keyring is not None and clock is not None
        if checkpoint_every < 0:
            raise ValueError("checkpoint_every must be 0 (off) or positive")
        self.signer: Signer = keyring
        self.clock: Clock = clock
        self.checkpoint_every = checkpoint_every
        self.observer = observer
        self._group = GroupCommitter(self._commit_many)

    # -- writing ---------------------------------------------------------------------

    def append(self, executor: Executor, entry: AuditEntry) -> ChainedEntry:
        """Append inside the caller's transaction; ``AuditUnavailable`` if it cannot."""
        entry = stamped(entry)
        chained = chain.append(
            executor, entry, signer=self.signer, checkpoint_every=self.checkpoint_every
        )
        self._observe(executor, (entry,))
        return chained

    def append_many(self, executor: Executor, entries: Iterable[AuditEntry]) -> list[ChainedEntry]:
        return self._append_many(executor, [stamped(entry) for entry in entries])

    def _append_many(self, executor: Executor, entries: Sequence[AuditEntry]) -> list[ChainedEntry]:
        chained = chain.append_many(
            executor, entries, signer=self.signer, checkpoint_every=self.checkpoint_every
        )
        self._observe(executor, entries)
        return chained

    def _observe(self, executor: Executor, entries: Sequence[AuditEntry]) -> None:
        if self.observer is None:
            return
        try:
            self.observer(executor, entries)
        except SQLAlchemyError as exc:  # fail closed, like the entries themselves
            raise AuditUnavailable() from exc

    def record(self, entry: AuditEntry) -> ChainedEntry:
        """Append in a transaction of its own."""
        return self.record_many([entry])[0]

    def record_grouped(self, entry: AuditEntry) -> ChainedEntry:
        """Like ``record``, but concurrent callers share a transaction (group commit);
        each still returns only once its entry is committed (see ``audit.group``)."""
        return self._group.record(stamped(entry))

    def record_many(self, entries: Iterable[AuditEntry]) -> list[ChainedEntry]:
        """Append several entries in one transaction of their own."""
        return self._commit_many([stamped(entry) for entry in entries])

    def _commit_many(self, entries: Iterable[AuditEntry]) -> list[ChainedEntry]:
        """Commit entries already stamped by their callers (a group's leader commits
        other callers' entries: it must not stamp them with its own actor)."""
        try:
            with write_lock(self.engine), self.engine.begin() as connection:
                return self._append_many(connection, list(entries))
        except (SQLAlchemyError, AuditUnavailable) as exc:  # the commit itself failed
            forget = getattr(self.observer, "forget", None)
            if forget is not None:
                forget()  # what it noted as written was rolled back
            if isinstance(exc, AuditUnavailable):
                raise
            raise AuditUnavailable() from exc

    def checkpoint(self) -> Checkpoint:
        """Sign the current head now."""
        try:
            with self.engine.begin() as connection:
                return chain.checkpoint(connection, self.signer, self.clock.now())
        except SQLAlchemyError as exc:
            raise AuditUnavailable() from exc

    # -- reading ---------------------------------------------------------------------

    def entries(self, limit: int = 50, before: int | None = None) -> list[ChainedEntry]:
        """The newest entries first (what ``privault audit list`` shows)."""
        with self.engine.connect() as connection:
            return chain.read_entries(connection, limit=limit, before=before)

    def head(self) -> tuple[int, bytes]:
        with self.engine.connect() as connection:
            return chain.read_head(connection) or (0, bytes(32))

    def verify(self, trusted_keys: Collection[bytes] | None = None) -> VerifyReport:
        """Verify the chain; checkpoints must be signed by this vault's key (or
        ``trusted_keys``)."""
        keys = trusted_keys if trusted_keys is not None else {self.signer.public_signing_key()}
        return verify_database(self.engine, keys)

    def export(self, directory: Path, *, checkpoint: bool = True) -> ExportReport:
        """Write entries, checkpoints and the public key to ``directory`` (new or empty).
        By default the head is checkpointed first, so the export ends on a signature."""
        if checkpoint:
            self.checkpoint()
        try:
            connection = chain.snapshot(self.engine)
            try:
                return export_snapshot(
                    connection,
                    directory,
                    public_key=self.signer.public_signing_key(),
                    at=self.clock.now(),
                    vault_id=getattr(self.signer, "vault_id", None),
                )
            finally:
                connection.close()
        except SQLAlchemyError as exc:
            raise StoreError(N_STORE) from exc
