"""What an entry may hold, and its canonical form (RFC 8785 subset)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from privault.audit import AuditEntry, Kind, Outcome, canonical_json
from privault.audit.entry import MAX_SUBJECTS
from privault.errors import InvalidInput
from tests.audit.conftest import make_entry

KEYS = st.from_regex(r"[a-z][a-z0-9_]{0,10}(\.[a-z0-9_]{1,8}){0,2}", fullmatch=True)
IDENTS = st.from_regex(r"[^\W_][\w.:@/+-]{0,30}", fullmatch=True)
SUBJECTS = st.from_regex(r"cus_[0-9a-f]{16}", fullmatch=True)
DETAIL_TEXT = st.from_regex(r"[a-zA-Zéřش][\w.:/-]{0,20}", fullmatch=True)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(2**53) + 1, 2**53 - 1), DETAIL_TEXT)
NON_RESERVED = KEYS.filter(lambda k: k not in {"kind", "seq", "at", "v", "principal"})

entries = st.builds(
    AuditEntry,
    at=st.datetimes(
        min_value=datetime(1970, 1, 1),
        max_value=datetime(9999, 1, 1),
        timezones=st.sampled_from(
            [UTC, timezone(timedelta(hours=5)), timezone(-timedelta(hours=3))]
        ),
    ),
    kind=st.sampled_from(list(Kind)),
    action=KEYS,
    principal=IDENTS,
    outcome=st.sampled_from(list(Outcome)),
    purpose=st.none() | KEYS,
    recipient=st.none() | IDENTS,
    fields=st.lists(KEYS, max_size=5).map(tuple),
    categories=st.lists(KEYS, max_size=5).map(tuple),
    subjects=st.lists(SUBJECTS, max_size=5).map(tuple),
    counts=st.dictionaries(NON_RESERVED, st.integers(0, 2**53 - 1), max_size=4),
    reasons=st.lists(KEYS, max_size=4).map(tuple),
    details=st.dictionaries(
        NON_RESERVED, SCALARS | st.lists(SCALARS, max_size=3).map(tuple), max_size=4
    ),
)


@settings(max_examples=60, deadline=None)
@given(entries, st.integers(1, 2**53 - 1))
def test_body_is_canonical_json_and_round_trips(entry: AuditEntry, seq: int) -> None:
    body = entry.body(seq)
    parsed = json.loads(body)
    # Canonical: re-serialising the parsed value gives the same bytes (RFC 8785 subset).
    assert json.dumps(parsed, sort_keys=True, separators=(",", ":"), ensure_ascii=False) == body
    assert canonical_json(parsed) == body
    assert "\\" not in body  # nothing needed escaping
    assert parsed["seq"] == seq and parsed["v"] == 1
    assert AuditEntry.from_json(parsed) == entry
    assert AuditEntry.from_json(parsed).body(seq) == body
    assert parsed["at"].endswith("Z") and len(parsed["at"]) == 27


@settings(max_examples=40, deadline=None)
@given(entries)
def test_normalised_order_does_not_change_the_body(entry: AuditEntry) -> None:
    shuffled = AuditEntry(
        at=entry.at,
        kind=entry.kind,
        action=entry.action,
        principal=entry.principal,
        outcome=entry.outcome,
        purpose=entry.purpose,
        recipient=entry.recipient,
        fields=tuple(reversed(entry.fields)),
        categories=entry.categories * 2,
        subjects=tuple(reversed(entry.subjects)),
        counts=dict(reversed(list(entry.counts.items()))),
        reasons=entry.reasons,
        details=dict(reversed(list(entry.details.items()))),
    )
    assert shuffled.body(7) == entry.body(7)


def test_known_body_for_auditors() -> None:
    """A fixed vector: an auditor's re-implementation must produce exactly this."""
    entry = make_entry(0, details={"request_id": "req-0", "batch": 3, "dry_run": False})
    assert entry.body(1) == (
        '{"action":"read","at":"2026-11-22T09:00:00.000000Z",'
        '"categories":["user.contact.email","user.contact.phone_number"],"counts":{},'
        '"details":{"batch":3,"dry_run":false,"request_id":"req-0"},"fields":["email","phone"],'
        '"kind":"decision","outcome":"allowed","principal":"svc-support",'
        '"purpose":"essential.service.support","reasons":[],"recipient":null,"seq":1,'
        '"subjects":["cus_0000000000000000"],"v":1}'
    )


@pytest.mark.parametrize(
    "overrides",
    [
        {"principal": "Jan Novák"},  # whitespace: free text
        {"principal": 'x"y'},
        {"principal": "a" * 200},
        {"action": "Read all"},
        {"purpose": "marketing email"},
        {"fields": ("email", "jan@example.com")},
        {"fields": "email"},  # a bare string, not a list
        {"subjects": ("jan.novak@example.com",)},
        {"subjects": ("+420 601 123 456",)},
        {"subjects": ("Jan Novák",)},
        {"subjects": tuple(f"cus_{i:016x}" for i in range(MAX_SUBJECTS + 1))},
        {"details": {"email": "jan.novak@example.com"}},
        {"details": {"phone": "420601123456"}},  # digits only: could be a number of a person
        {"details": {"note": "called the customer about their debt"}},
        {"details": {"nested": {"a": 1}}},
        {"details": {"ratio": 0.5}},
        {"details": {"big": 2**60}},
        {"details": {"kind": "write"}},  # reserved member name
        {"details": {"Bad Key": 1}},
        {"counts": {"included": -1}},
        {"counts": {"included": True}},
        {"kind": "gossip"},
        {"outcome": "maybe"},
        {"at": datetime(2026, 11, 22, 9, 0)},  # naive
        {"reasons": ("no consent",)},
    ],
)
def test_rejects_free_text_and_personal_data(overrides: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        make_entry(1, **overrides)


def test_accepts_identifiers_and_codes() -> None:
    entry = make_entry(
        1,
        principal="jiří.novák@corp",
        recipient="partner-acme",
        counts={"included": 812, "excluded.no_consent": 188},
        details={"policy": "sha256:ab12cd", "roles": ["support", "marketing"], "approved": None},
        kind="consent",
        outcome="succeeded",
    )
    assert entry.kind is Kind.CONSENT and entry.outcome is Outcome.SUCCEEDED
    assert entry.details["roles"] == ("support", "marketing")
    prague = timezone(timedelta(hours=1))
    assert make_entry(2, at=datetime(2026, 11, 22, 10, 0, tzinfo=prague)).at == (
        datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
    )
