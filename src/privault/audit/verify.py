"""Checking the chain: hashes, sequence, links, index columns, signed checkpoints, head.

``ChainVerifier`` is fed rows in sequence order -- from the database or from an export
-- and stops at the first problem, naming the entry and a stable reason code.  It is a
tight loop over tuples (no ORM objects, no JSON parsing): one SHA-256 and a few
comparisons per entry.  Each entry's stored ``prev_hash`` is not even read unless a
hash fails to match, when it tells an altered entry from a broken link.

What it catches:

- an entry's body or hash edited (``hash_mismatch``);
- an entry deleted (``missing_entry``), or entries repeated or out of order
  (``out_of_order``);
- an entry replaced, re-hashed or moved (``broken_link``);
- a checkpoint forged or signed by another key (``bad_checkpoint_signature``,
  ``untrusted_checkpoint_key``), or an entry that differs from what a checkpoint
  signed (``checkpoint_mismatch``);
- the last entries removed after a checkpoint (``truncated``), or the head row out of
  step with the entries (``head_mismatch``).

Removing the newest entries together with every checkpoint that covers them can only be
caught against a copy kept elsewhere (an earlier export, a published checkpoint).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from hashlib import sha256
from typing import Any, Final

from privault.audit.blocks import Signed, chain_ok
from privault.audit.canonical import GENESIS
from privault.audit.chain import Checkpoint
from privault.crypto.keyring import verify_signature
from privault.errors import N_


class Reason(StrEnum):
    HASH_MISMATCH = "hash_mismatch"
    BROKEN_LINK = "broken_link"
    MISSING_ENTRY = "missing_entry"
    OUT_OF_ORDER = "out_of_order"
    BAD_CHECKPOINT_SIGNATURE = "bad_checkpoint_signature"
    UNTRUSTED_CHECKPOINT_KEY = "untrusted_checkpoint_key"
    CHECKPOINT_MISMATCH = "checkpoint_mismatch"
    TRUNCATED = "truncated"
    HEAD_MISMATCH = "head_mismatch"
    MALFORMED = "malformed"


MESSAGES: Final[dict[Reason, str]] = {
    Reason.HASH_MISMATCH: N_("Entry %(seq)s was altered: its hash does not match its content."),
    Reason.BROKEN_LINK: N_(
        "Entry %(seq)s does not follow on from the entry before it: an entry was changed, "
        "replaced or moved."
    ),
    Reason.MISSING_ENTRY: N_("Entry %(seq)s is missing: entries were deleted."),
    Reason.OUT_OF_ORDER: N_("Entry %(seq)s appears out of order or more than once."),
    Reason.BAD_CHECKPOINT_SIGNATURE: N_(
        "The checkpoint at entry %(seq)s has an invalid signature."
    ),
    Reason.UNTRUSTED_CHECKPOINT_KEY: N_(
        "The checkpoint at entry %(seq)s was signed with a key that is not trusted."
    ),
    Reason.CHECKPOINT_MISMATCH: N_(
        "Entry %(seq)s is not the entry that the signed checkpoint recorded."
    ),
    Reason.TRUNCATED: N_(
        "Entries from %(seq)s on are missing: a signed checkpoint covers entry %(last)s."
    ),
    Reason.HEAD_MISMATCH: N_(
        "The chain head does not match the entries from %(seq)s on: entries were removed "
        "or the head was changed."
    ),
    Reason.MALFORMED: N_("Entry %(seq)s cannot be read: line %(line)s of the export is malformed."),
}


@dataclass(frozen=True, slots=True)
class Problem:
    """The first bad entry: its sequence number and why."""

    seq: int
    reason: Reason
    params: dict[str, int] = field(default_factory=dict)

    def message(self, lang: str = "en") -> str:
        from privault.i18n import translator

        return translator(lang).gettext(MESSAGES[self.reason]) % {"seq": self.seq, **self.params}

    def as_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "reason": self.reason.value,
            "message": self.message(),
            **self.params,
        }


@dataclass(frozen=True, slots=True)
class VerifyReport:
    ok: bool
    entries: int
    last_seq: int
    head_hash: str
    checkpoints: int
    last_checkpoint: int | None
    public_keys: tuple[str, ...]
    problem: Problem | None

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "last_seq": self.last_seq,
            "head_hash": self.head_hash,
            "checkpoints": self.checkpoints,
            "last_checkpoint": self.last_checkpoint,
            "public_keys": list(self.public_keys),
            "problem": self.problem.as_json() if self.problem else None,
        }


PrevLookup = Callable[[int], bytes | None]


class ChainVerifier:
    """Feed rows in sequence order with ``feed``; then ``finish``.

    Blocks checked elsewhere (``privault.audit.blocks``) are taken whole with
    ``try_block`` and ``join``; checkpoint signatures are checked when their entry is
    reached, so a worker's blocks cost this process nothing but their signatures."""

    def __init__(
        self, checkpoints: Sequence[Checkpoint], trusted_keys: Collection[bytes] | None = None
    ) -> None:
        self.count = 0
        self.expected = 1
        self.prev = GENESIS
        self.problem: Problem | None = None
        self.checkpoints = len(checkpoints)
        self.keys = tuple(sorted({c.public_key.hex() for c in checkpoints}))
        self.last_checkpoint = max((c.seq for c in checkpoints), default=None)
        self.signed = Signed((c.seq, c.hash) for c in checkpoints)
        self._trusted = trusted_keys
        self._at: dict[int, list[Checkpoint]] = {}
        for c in checkpoints:
            self._at.setdefault(c.seq, []).append(c)
        self._reasons: dict[int, list[Reason | None]] = {}
        self._unchecked_top = len(self.signed.seqs)  # see check_from_the_end
        self._check_checkpoint(0, GENESIS)

    def _fail(self, seq: int, reason: Reason, **params: int) -> bool:
        self.problem = Problem(seq, reason, params)
        return False

    def _reasons_at(self, seq: int) -> list[Reason | None]:
        """Per checkpoint at ``seq``, in order: what is wrong with its signature or key."""
        reasons = self._reasons.get(seq)
        if reasons is None:
            reasons = self._reasons[seq] = [self._reason(c) for c in self._at.get(seq, ())]
        return reasons

    def _reason(self, checkpoint: Checkpoint) -> Reason | None:
        if self._trusted is not None and checkpoint.public_key not in self._trusted:
            return Reason.UNTRUSTED_CHECKPOINT_KEY
        if not verify_signature(checkpoint.public_key, checkpoint.message(), checkpoint.signature):
            return Reason.BAD_CHECKPOINT_SIGNATURE
        return None

    def check_from_the_end(self, first: int, stop: int) -> None:
        """With workers verifying the end of the chain: check the signatures of as many
        checkpoints there as entries ``first <= seq < stop`` (just verified here) hold,
        so that joining the workers' blocks finds them checked."""
        seqs = self.signed.seqs
        for _ in self.signed.within(first, stop):
            while self._unchecked_top > 0 and seqs[self._unchecked_top - 1] in self._reasons:
                self._unchecked_top -= 1
            if self._unchecked_top == 0 or seqs[self._unchecked_top - 1] < stop:
                return
            self._reasons_at(seqs[self._unchecked_top - 1])

    def _signatures_ok(self, first: int, stop: int) -> bool:
        return all(
            r is None for seq in self.signed.within(first, stop) for r in self._reasons_at(seq)
        )

    def _check_checkpoint(self, seq: int, digest: bytes) -> bool:
        for checkpoint, reason in zip(self._at.get(seq, ()), self._reasons_at(seq), strict=True):
            if reason is not None:
                return self._fail(seq, reason)
            if checkpoint.hash != digest:
                return self._fail(seq, Reason.CHECKPOINT_MISMATCH)
        return True

    def _diagnose(self, seq: int, digest: bytes, body: bytes, prev_of: PrevLookup) -> bool:
        """The chained hash did not match: was the entry itself altered, or its link?"""
        stored_prev = prev_of(seq)
        if stored_prev is None or sha256(stored_prev + body).digest() != digest:
            return self._fail(seq, Reason.HASH_MISMATCH)
        return self._fail(seq, Reason.BROKEN_LINK)

    def feed(self, rows: Iterable[tuple[int, bytes, bytes]], prev_of: PrevLookup) -> bool:
        """Rows of (seq, hash, UTF-8 body) in order; ``prev_of(seq)`` gives an entry's
        stored previous hash, asked only to explain a mismatch.  False at a problem."""
        if self.problem is not None:
            return False
        at = self._at
        expected, prev = self.expected, self.prev
        try:
            for seq, digest, body in rows:
                if seq != expected:
                    if seq > expected:
                        return self._fail(expected, Reason.MISSING_ENTRY)
                    return self._fail(seq, Reason.OUT_OF_ORDER)
                if sha256(prev + body).digest() != digest:
                    return self._diagnose(seq, digest, body, prev_of)
                if seq in at and not self._check_checkpoint(seq, digest):
                    return False
                prev = digest
                expected += 1
        finally:
            self.count += expected - self.expected
            self.expected, self.prev = expected, prev
        return True

    def try_block(self, first: int, hashes: list[bytes], bodies: Sequence[bytes]) -> bool:
        """Take entries ``first, first + 1, ...`` whole if they are clean (see
        ``privault.audit.blocks``); otherwise change nothing and return False, so that
        the caller feeds them entry by entry."""
        stop = first + len(hashes)
        if (
            self.problem is not None
            or first != self.expected
            or not chain_ok(self.prev, hashes, bodies)
            or not self.signed.ok(first, hashes)
            or not self._signatures_ok(first, stop)
        ):
            return False
        if hashes:
            self.count += len(hashes)
            self.expected, self.prev = stop, hashes[-1]
        return True

    def join(self, start: tuple[int, bytes], end: tuple[int, bytes], count: int) -> bool:
        """Take a block a worker found clean: it started from ``start`` (next sequence
        number, previous hash) and ended at ``end``.  False (nothing changed) unless that
        is where this chain stands and the block's checkpoints are validly signed."""
        if (
            self.problem is not None
            or (self.expected, self.prev) != start
            or end[0] - start[0] != count
            or not self._signatures_ok(start[0], end[0])
        ):
            return False
        self.count += count
        self.expected, self.prev = end
        return True

    def feed_columns(
        self,
        seqs: Sequence[int],
        hashes: list[bytes],
        bodies: Sequence[bytes],
        prevs: Sequence[bytes],
    ) -> bool:
        """A chunk as columns, each row carrying its stored previous hash: taken whole if
        clean, otherwise fed entry by entry to name the first bad one.  False at a
        problem."""
        if self.problem is not None:
            return False
        first = self.expected
        if list(seqs) == list(range(first, first + len(seqs))) and self.try_block(
            first, hashes, bodies
        ):
            return True
        stored = dict(zip(seqs, prevs, strict=True))
        return self.feed(zip(seqs, hashes, bodies, strict=True), stored.get)

    def fail_malformed(self, line: int, seq: int | None = None) -> None:
        if self.problem is None:
            self._fail(self.expected if seq is None else seq, Reason.MALFORMED, line=line)

    def finish(self, head: tuple[int, bytes] | None = None) -> VerifyReport:
        """Checks that need the whole chain: truncation after a checkpoint, the head row."""
        last = self.expected - 1
        if self.problem is None:
            beyond = [s for s in self.signed.seqs if s > last]
            for seq in beyond:
                reasons = [r for r in self._reasons_at(seq) if r is not None]
                if reasons:
                    self._fail(seq, reasons[0])
                    break
            else:
                if beyond:
                    self._fail(last + 1, Reason.TRUNCATED, last=beyond[-1])
        if self.problem is None and head is not None and head != (last, self.prev):
            self._fail(min(head[0], last) + (head[0] != last), Reason.HEAD_MISMATCH)
        return VerifyReport(
            ok=self.problem is None,
            entries=self.count,
            last_seq=last,
            head_hash=self.prev.hex(),
            checkpoints=self.checkpoints,
            last_checkpoint=self.last_checkpoint,
            public_keys=self.keys,
            problem=self.problem,
        )
