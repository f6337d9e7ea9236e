"""The canonical form of audit entries and checkpoints, and how the chain is hashed.

An auditor can re-implement everything here from this docstring alone.

Canonical JSON
    The canonical form of a value is its RFC 8785 (JSON Canonicalization Scheme)
    serialisation, which for the restricted values audit records may hold is simply:
    UTF-8; no whitespace between tokens; object members sorted by key (all keys are
    ASCII, so code-point order); integers in plain decimal (no floats exist, and
    integers stay within +/-(2**53 - 1)); ``true``, ``false``, ``null``; strings
    quoted, without escapes (entry validation admits no quote, backslash or control
    character), non-ASCII letters written as themselves.  In Python:
    ``json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)``.

Entry body (format version 1)
    An object with exactly these members, all always present:
    ``action`` (code), ``at`` (UTC time, ``YYYY-MM-DDTHH:MM:SS.ffffffZ``, always six
    fractional digits), ``categories`` (sorted unique list of category keys),
    ``counts`` (object: code -> non-negative integer), ``details`` (object of
    non-personal metadata), ``fields`` (sorted unique list), ``kind``, ``outcome``,
    ``principal``, ``purpose`` (key or null), ``reasons`` (sorted unique list of
    reason codes), ``recipient`` (identifier or null), ``seq`` (1, 2, 3...),
    ``subjects`` (sorted unique list of customer pseudonyms), ``v`` (1).

Chain
    ``hash(n) = SHA-256(hash(n-1) || body(n))`` over the raw 32-byte previous hash and
    the UTF-8 bytes of the canonical body; ``hash(0)`` is 32 zero bytes (genesis).

Checkpoint
    An Ed25519 signature over the canonical JSON of
    ``{"at": <time as above>, "hash": <hex of hash(seq)>, "seq": <seq>,
    "type": "privault.audit.checkpoint", "v": 1}``.  ``seq`` 0 (an empty chain) is
    allowed and carries the genesis hash.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any, Final

FORMAT_VERSION: Final[int] = 1
GENESIS: Final[bytes] = bytes(32)
HASH_BYTES: Final[int] = 32
CHECKPOINT_TYPE: Final[str] = "privault.audit.checkpoint"
MAX_SAFE_INT: Final[int] = 2**53 - 1


_ENCODER: Final = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


def canonical_json(value: Any) -> str:
    """RFC 8785 serialisation of an already validated value (see the module docstring)."""
    return _ENCODER.encode(value)


def format_time(when: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS.ffffffZ`` in UTC; refuses naive datetimes."""
    if when.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
    t = when.astimezone(UTC)
    return (
        f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:"
        f"{t.second:02d}.{t.microsecond:06d}Z"
    )


def parse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def chain_hash(previous: bytes, body: bytes) -> bytes:
    """``SHA-256(previous || body)``: the link from one entry to the next."""
    return hashlib.sha256(previous + body).digest()


def checkpoint_message(seq: int, head: bytes, at: datetime) -> bytes:
    """The exact bytes a checkpoint signature covers."""
    return canonical_json(
        {
            "at": format_time(at),
            "hash": head.hex(),
            "seq": seq,
            "type": CHECKPOINT_TYPE,
            "v": FORMAT_VERSION,
        }
    ).encode("utf-8")
