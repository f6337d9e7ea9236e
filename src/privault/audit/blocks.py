"""Checking the chain a block at a time, in this process or in a worker (stdlib only).

A *block* is a run of consecutive entries: the rows with ``lo < seq <= hi`` in the
database, or the lines of ``entries.jsonl`` that start in a byte range ``[lo, hi)``.  A
block is *clean* when the sequential verifier, started where the block starts, would
accept every entry in it: sequence numbers follow on, ``hash_i = SHA-256(hash_(i-1) ||
body_i)`` where ``hash_(first-1)`` is the stored hash of the entry before the block, and
every checkpoint signed inside the block names that entry's hash.

Here are only yes/no answers.  ``ChainVerifier`` takes a clean block whole; one that is
not clean, or one a worker did not answer, it verifies again entry by entry, which names
the first problem exactly.  A worker can make verification faster, never decide it.

This module imports nothing from privault or SQLAlchemy because it is also the program
a verify worker runs: ``python -I blocks.py``, a fresh interpreter (never a fork of a
possibly threaded server) that starts in a fraction of a second.  It reads one JSON
line (what to read, the signed hashes), answers ``{"ready": true}``, then answers one
JSON line per block ``[lo, hi]`` it is sent, until its input ends.  It reads from SQLite
in a read-only transaction of its own (consistent with the parent because appends only
add entries after the head the parent read, and blocks end there), from PostgreSQL in
the parent's exported snapshot, or from an export file.
"""

from __future__ import annotations

import binascii
import json
import re
import sys
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from hashlib import sha256
from pathlib import Path
from typing import IO, Any, Final

GENESIS: Final[bytes] = bytes(32)

# One entries.jsonl line.  The body cannot contain a newline or '"seq":<n>}', so the
# greedy body stops exactly at the line's own tail.
LINE: Final = re.compile(
    rb'^\{"entry":(.*),"hash":"([0-9a-f]{64})","prev":"([0-9a-f]{64})","seq":([0-9]{1,19})\}\r?\n',
    re.MULTILINE,
)
HEAD: Final[bytes] = b'{"entry":'
TAIL: Final[bytes] = b',"hash":"%s","prev":"%s","seq":%d}'
TAIL_FIXED: Final[int] = 156  # len(TAIL) with 64-digit hashes, without the seq digits
HEX_DIGITS: Final[bytes] = b"0123456789abcdef"


def chain_ok(prev: bytes, hashes: list[bytes], bodies: Sequence[bytes]) -> bool:
    """Every ``hashes[i] == SHA-256(hashes[i-1] || bodies[i])``, with ``prev`` first."""
    if len(hashes) != len(bodies):
        return False
    sha = sha256
    previous = (prev, *hashes)  # one longer than bodies: its last hash links to nothing
    return [sha(p + b).digest() for p, b in zip(previous, bodies, strict=False)] == hashes


class Signed:
    """The hashes that checkpoints signed, by sequence number."""

    def __init__(self, pairs: Iterable[tuple[int, bytes]]) -> None:
        self.by_seq: dict[int, list[bytes]] = {}
        for seq, digest in pairs:
            self.by_seq.setdefault(seq, []).append(digest)
        self.seqs = sorted(self.by_seq)

    def pairs(self) -> list[tuple[int, bytes]]:
        return [(seq, digest) for seq in self.seqs for digest in self.by_seq[seq]]

    def within(self, first: int, stop: int) -> list[int]:
        """Signed sequence numbers ``first <= seq < stop``."""
        return self.seqs[bisect_left(self.seqs, first) : bisect_left(self.seqs, stop)]

    def ok(self, first: int, hashes: Sequence[bytes]) -> bool:
        """Each checkpoint among entries ``first...`` signed the hash the entry has."""
        for seq in self.within(first, first + len(hashes)):
            digest = hashes[seq - first]
            if any(signed != digest for signed in self.by_seq[seq]):
                return False
        return True


def parse_lines(
    lines: Sequence[bytes], first: int, prev_hex: bytes
) -> tuple[list[bytes], list[bytes]] | None:
    """``(hashes, bodies)`` of export lines (without newlines) numbered ``first...``,
    or None unless each is exactly what export writes: ``{"entry":<body>,"hash":"<hex>",
    "prev":"<the line before's hex>","seq":<n>}`` in lowercase hex.

    A line ``LINE`` accepts is parsed the same way here, so None only means "read it
    the slow way"; whether it is *wrong* is for the verifier to say."""
    hashes: list[bytes] = []
    bodies: list[bytes] = []
    start = 0
    while start < len(lines):
        seq = first + start
        digits = len(str(seq))
        stop = min(len(lines), start + 10**digits - seq)  # same digit count: same tail length
        part = lines[start:stop]
        k = TAIL_FIXED + digits
        hexes = [line[9 - k : 73 - k] for line in part]
        joined = b"".join(hexes)
        if (
            len(joined) != 64 * len(part)
            or joined.translate(None, HEX_DIGITS)
            or [line[:9] for line in part].count(HEAD) != len(part)
            or [line[-k:] for line in part]
            != [
                TAIL % t
                for t in zip(
                    hexes, [prev_hex, *hexes[:-1]], range(seq, seq + len(part)), strict=True
                )
            ]
        ):
            return None
        hashes += map(binascii.unhexlify, hexes)
        bodies += [line[9:-k] for line in part]
        prev_hex = hexes[-1]
        start = stop
    return hashes, bodies


def read_lines(source: IO[bytes], lo: int, hi: int) -> tuple[list[bytes], int]:
    """The lines (without newlines) that start at a byte offset in ``[lo, hi)``, and the
    offset where the first of them starts."""
    begin = 0
    if lo > 0:
        source.seek(lo - 1)
        begin = lo - 1 + len(source.readline())  # past the line that is under way at lo
    if begin >= hi:
        return [], begin
    source.seek(begin)
    data = source.read(hi - begin)
    if len(data) == hi - begin and not data.endswith(b"\n"):
        data += source.readline()  # the last line starts in the block: finish it
    lines = data.split(b"\n")
    if not lines[-1]:
        lines.pop()
    return lines, begin


def line_before(source: IO[bytes], begin: int) -> bytes | None:
    """The line (with its newline) that ends just before offset ``begin``."""
    if begin <= 0:
        return None
    window = 4096
    while True:
        start = max(0, begin - window)
        source.seek(start)
        data = source.read(begin - start)
        cut = data.rfind(b"\n", 0, len(data) - 1)
        if cut >= 0 or start == 0:
            return data[cut + 1 :]
        window *= 4


# -- the worker program -------------------------------------------------------------------

Answer = dict[str, Any]


def _answer(
    ok: bool, start: tuple[int, bytes] | None, end: tuple[int, bytes] | None, count: int
) -> Answer:
    return {
        "ok": ok,
        "count": count,
        "start": [start[0], start[1].hex()] if start else None,
        "end": [end[0], end[1].hex()] if end else None,
    }


class _Rows:
    """Database blocks: rows ``lo < seq <= hi`` and the stored hash of entry ``lo``."""

    signed: Signed

    def rows(self, lo: int, hi: int) -> list[tuple[bytes, bytes]]:
        raise NotImplementedError

    def hash_at(self, seq: int) -> bytes | None:
        raise NotImplementedError

    def check(self, lo: int, hi: int) -> Answer:
        prev = GENESIS if lo == 0 else self.hash_at(lo) if lo > 0 else None
        rows = self.rows(lo, hi)
        hashes = [bytes(r[0]) for r in rows]
        ok = (
            prev is not None
            and len(rows) == hi - lo > 0
            and chain_ok(prev, hashes, [r[1] for r in rows])
            and self.signed.ok(lo + 1, hashes)
        )
        if not ok or prev is None:
            return _answer(False, None, None, 0)
        return _answer(True, (lo + 1, prev), (hi + 1, hashes[-1]), hi - lo)


class _SQLiteRows(_Rows):
    def __init__(self, path: str, signed: Signed) -> None:
        import sqlite3

        self.signed = signed
        uri = Path(path).resolve().as_uri() + "?mode=ro"
        self.db = sqlite3.connect(uri, uri=True, isolation_level=None)
        self.db.execute("PRAGMA busy_timeout=30000")
        self.db.execute("PRAGMA cache_size=-65536")
        self.db.execute("BEGIN")
        self.db.execute("SELECT 1 FROM audit_entries LIMIT 1").fetchall()  # start reading now

    def rows(self, lo: int, hi: int) -> list[tuple[bytes, bytes]]:
        return self.db.execute(
            "SELECT hash, CAST(body AS BLOB) FROM audit_entries WHERE seq > ? AND seq <= ? "
            "ORDER BY seq",
            (lo, hi),
        ).fetchall()

    def hash_at(self, seq: int) -> bytes | None:
        row = self.db.execute("SELECT hash FROM audit_entries WHERE seq = ?", (seq,)).fetchone()
        return None if row is None else bytes(row[0])


class _PostgresRows(_Rows):
    def __init__(
        self,
        conninfo: str,
        snapshot: str,
        table: list[str],
        task_settings: list[str],
        signed: Signed,
    ) -> None:
        import psycopg
        from psycopg import sql
        from psycopg.types.string import ByteaBinaryLoader

        self.signed = signed
        self.db = psycopg.connect(conninfo, autocommit=True)
        self.db.adapters.register_loader("text", ByteaBinaryLoader)  # UTF-8 bytes, as hashed
        self.db.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        self.db.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(snapshot)))
        for setting in task_settings:  # as the parent's (privault.audit.stream)
            self.db.execute(setting)
        name = sql.Identifier(*table)
        self._rows = sql.SQL(
            "SELECT hash, body FROM {} WHERE seq > %s AND seq <= %s ORDER BY seq"
        ).format(name)
        self._hash = sql.SQL("SELECT hash FROM {} WHERE seq = %s").format(name)

    def rows(self, lo: int, hi: int) -> list[tuple[bytes, bytes]]:
        with self.db.cursor(binary=True) as cursor:
            return cursor.execute(self._rows, (lo, hi)).fetchall()

    def hash_at(self, seq: int) -> bytes | None:
        with self.db.cursor(binary=True) as cursor:
            row = cursor.execute(self._hash, (seq,)).fetchone()
        return None if row is None else bytes(row[0])


class _ExportLines:
    """Export blocks: the lines of entries.jsonl that start in ``[lo, hi)``."""

    def __init__(self, path: str, signed: Signed) -> None:
        self.signed = signed
        self.source = Path(path).open("rb")  # noqa: SIM115 - open for the worker's life

    def check(self, lo: int, hi: int) -> Answer:
        lines, begin = read_lines(self.source, lo, hi)
        if not lines:
            return _answer(True, None, None, 0)
        if begin == 0:
            first, prev_hex = 1, GENESIS.hex().encode()
        else:
            match = LINE.fullmatch(line_before(self.source, begin) or b"")
            if match is None:
                return _answer(False, None, None, 0)
            first, prev_hex = int(match[4]) + 1, match[2]
        parsed = parse_lines(lines, first, prev_hex)
        if parsed is None:
            return _answer(False, None, None, 0)
        hashes, bodies = parsed
        prev = binascii.unhexlify(prev_hex)
        if not (chain_ok(prev, hashes, bodies) and self.signed.ok(first, hashes)):
            return _answer(False, None, None, 0)
        return _answer(True, (first, prev), (first + len(lines), hashes[-1]), len(lines))


def worker_main(stdin: IO[bytes], stdout: IO[bytes]) -> None:
    task = json.loads(stdin.readline())
    sys.path.extend(p for p in task.get("path", ()) if p and p not in sys.path)
    signed = Signed((seq, bytes.fromhex(digest)) for seq, digest in task["signed"])
    source: _Rows | _ExportLines
    if task["source"] == "sqlite":
        source = _SQLiteRows(task["target"], signed)
    elif task["source"] == "postgresql":
        source = _PostgresRows(
            task["target"], task["snapshot"], task["table"], task["settings"], signed
        )
    else:
        source = _ExportLines(task["target"], signed)
    stdout.write(b'{"ready": true}\n')
    stdout.flush()
    for line in stdin:
        lo, hi = json.loads(line)
        stdout.write(json.dumps(source.check(lo, hi)).encode() + b"\n")
        stdout.flush()


if __name__ == "__main__":
    worker_main(sys.stdin.buffer, sys.stdout.buffer)
