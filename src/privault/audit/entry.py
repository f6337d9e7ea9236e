"""What an audit entry may say, and the rule that keeps customer data out of it.

The rule (DESIGN.md §6): an audit entry holds *names and numbers, never data*.  Every
string in it is a bounded identifier or code -- a principal, a purpose or category key,
a field name, a reason code, a customer's pseudonymous public id -- and every number
is an integer.  The type enforces what it can:

- no whitespace, quotes, backslashes or control characters anywhere (so no free text,
  no sentences, no addresses, no pasted JSON);
- lengths and list sizes are bounded (``MAX_*`` below);
- customer references must look like public ids (``cus_0a1b2c...``), never e-mail
  addresses, names or numbers; many customers are recorded as counts;
- ``details`` takes flat non-personal metadata: integers, booleans, null, short codes
  that contain a letter and no ``@`` or ``+`` (which rules out e-mail addresses and
  phone numbers written as digits), or short lists of those.

It cannot prove that a well-formed code is not personal data; callers put only
identifiers and codes in, and the type rejects what is obviously wrong with
``InvalidInput``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final

from privault.audit.canonical import (
    FORMAT_VERSION,
    MAX_SAFE_INT,
    canonical_json,
    format_time,
    parse_time,
)
from privault.errors import N_, InvalidInput

MAX_IDENT: Final[int] = 128
MAX_SUBJECTS: Final[int] = 1000
MAX_NAMES: Final[int] = 256
MAX_CODES: Final[int] = 64
MAX_DETAILS: Final[int] = 32
MAX_DETAIL_LIST: Final[int] = 64

# principal, recipient: word characters (any script) and a little punctuation.
_IDENT = re.compile(r"[^\W_][\w.:@/+-]*")
# purposes, categories, fields, actions, reason codes, mapping keys: dotted lower-case keys.
_KEY = re.compile(r"[a-z][a-z0-9_-]*(?:\.[a-z0-9_-]+)*")
# customer pseudonyms: a short lower-case prefix, '_', and an opaque token.
_SUBJECT = re.compile(r"[a-z]{1,16}_[0-9A-Za-z]{6,64}")
# string values in details: must contain a letter; no '@', '+', spaces or quotes.
_DETAIL = re.compile(r"(?=.*[^\W\d_])[\w.:/-]+")

Scalar = str | int | bool | None
DetailValue = Scalar | tuple[Scalar, ...]


class Kind(StrEnum):
    """What happened: a decision on access, or a change of data, consent, policy or keys."""

    DECISION = "decision"
    WRITE = "write"
    CONSENT = "consent"
    POLICY = "policy"
    KEY = "key"
    INCIDENT = "incident"


class Outcome(StrEnum):
    ALLOWED = "allowed"
    DENIED = "denied"
    PARTIAL = "partial"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


# Top-level member names of the body.  Nested mappings (counts, details) may not use
# them as keys, so each appears exactly once in a body and index columns can be checked
# against it by plain substring search (see ``verify``).
RESERVED_KEYS: Final[frozenset[str]] = frozenset(
    {
        "action",
        "at",
        "categories",
        "counts",
        "details",
        "fields",
        "kind",
        "outcome",
        "principal",
        "purpose",
        "reasons",
        "recipient",
        "seq",
        "subjects",
        "v",
    }
)


def _bad(what: str) -> InvalidInput:
    return InvalidInput(
        N_(
            "The audit entry's %(what)s is not an identifier or code; audit entries never "
            "hold free text or customer data."
        ),
        what=what,
    )


def _match(pattern: re.Pattern[str], value: object, what: str, limit: int = MAX_IDENT) -> str:
    if not isinstance(value, str) or len(value) > limit or pattern.fullmatch(value) is None:
        raise _bad(what)
    return value


def _int(value: object, what: str, minimum: int = -MAX_SAFE_INT) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not (minimum <= value <= MAX_SAFE_INT)
    ):
        raise _bad(what)
    return value


def _names(
    values: Iterable[str], pattern: re.Pattern[str], what: str, limit: int
) -> tuple[str, ...]:
    if isinstance(values, str):
        raise _bad(what)  # a bare string would be split into characters
    items = tuple(sorted({_match(pattern, v, what) for v in values}))
    if len(items) > limit:
        raise InvalidInput(
            N_("The audit entry lists more than %(limit)s %(what)s; record a count instead."),
            limit=limit,
            what=what,
        )
    return items


def _scalar(value: object, what: str) -> Scalar:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return _int(value, what)
    return _match(_DETAIL, value, what)


def _detail(value: object, what: str) -> DetailValue:
    if isinstance(value, list | tuple):
        if len(value) > MAX_DETAIL_LIST:
            raise _bad(what)
        return tuple(_scalar(v, what) for v in value)
    return _scalar(value, what)


def _mapping_key(key: object, what: str) -> str:
    name = _match(_KEY, key, what)
    if name in RESERVED_KEYS:
        raise _bad(what)
    return name


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One thing to record.  Validated and normalised on construction (lists sorted and
    de-duplicated, time in UTC), so equal entries have equal canonical bodies."""

    at: datetime
    kind: Kind
    action: str
    principal: str
    outcome: Outcome
    purpose: str | None = None
    recipient: str | None = None
    fields: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()
    counts: Mapping[str, int] = field(default_factory=dict)
    reasons: tuple[str, ...] = ()
    details: Mapping[str, DetailValue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        put = object.__setattr__
        if not isinstance(self.at, datetime) or self.at.tzinfo is None:
            raise InvalidInput(N_("Audit entries need a timezone-aware time."))
        put(self, "at", self.at.astimezone(UTC))
        try:
            put(self, "kind", Kind(self.kind))
            put(self, "outcome", Outcome(self.outcome))
        except ValueError:
            raise _bad("kind or outcome") from None
        _match(_KEY, self.action, "action")
        _match(_IDENT, self.principal, "principal")
        if self.purpose is not None:
            _match(_KEY, self.purpose, "purpose")
        if self.recipient is not None:
            _match(_IDENT, self.recipient, "recipient")
        put(self, "fields", _names(self.fields, _KEY, "fields", MAX_NAMES))
        put(self, "categories", _names(self.categories, _KEY, "categories", MAX_NAMES))
        put(self, "subjects", _names(self.subjects, _SUBJECT, "subjects", MAX_SUBJECTS))
        put(self, "reasons", _names(self.reasons, _KEY, "reasons", MAX_CODES))
        if not isinstance(self.counts, Mapping) or len(self.counts) > MAX_CODES:
            raise _bad("counts")
        put(
            self,
            "counts",
            {_mapping_key(k, "counts"): _int(v, "counts", 0) for k, v in self.counts.items()},
        )
        if not isinstance(self.details, Mapping) or len(self.details) > MAX_DETAILS:
            raise _bad("details")
        put(
            self,
            "details",
            {_mapping_key(k, "details"): _detail(v, "details") for k, v in self.details.items()},
        )

    def body(self, seq: int) -> str:
        """The canonical body of this entry at position ``seq`` (see ``canonical``)."""
        return canonical_json(self.as_json(seq))

    def as_json(self, seq: int) -> dict[str, Any]:
        return {
            "action": self.action,
            "at": format_time(self.at),
            "categories": list(self.categories),
            "counts": dict(self.counts),
            "details": {k: list(v) if isinstance(v, tuple) else v for k, v in self.details.items()},
            "fields": list(self.fields),
            "kind": self.kind.value,
            "outcome": self.outcome.value,
            "principal": self.principal,
            "purpose": self.purpose,
            "reasons": list(self.reasons),
            "recipient": self.recipient,
            "seq": seq,
            "subjects": list(self.subjects),
            "v": FORMAT_VERSION,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AuditEntry:
        """Rebuild (and re-validate) an entry from a parsed body."""
        return cls(
            at=parse_time(data["at"]),
            kind=Kind(data["kind"]),
            action=data["action"],
            principal=data["principal"],
            outcome=Outcome(data["outcome"]),
            purpose=data["purpose"],
            recipient=data["recipient"],
            fields=tuple(data["fields"]),
            categories=tuple(data["categories"]),
            subjects=tuple(data["subjects"]),
            counts=dict(data["counts"]),
            reasons=tuple(data["reasons"]),
            details=dict(data["details"]),
        )
