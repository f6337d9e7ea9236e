"""Fixtures for the audit trail: entries, signers, and a vault's AuditLog."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from privault.audit import AuditEntry, AuditLog, Kind, Outcome
from privault.crypto import KeyMaterial, Keyring
from privault.runtime import Vault

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
MakeEntry = Callable[..., AuditEntry]


def make_entry(i: int = 0, **overrides: Any) -> AuditEntry:
    values: dict[str, Any] = {
        "at": T0 + timedelta(seconds=i),
        "kind": Kind.DECISION,
        "action": "read",
        "principal": "svc-support",
        "outcome": Outcome.ALLOWED,
        "purpose": "essential.service.support",
        "fields": ("email", "phone"),
        "categories": ("user.contact.email", "user.contact.phone_number"),
        "subjects": (f"cus_{i:016x}",),
        "details": {"request_id": f"req-{i}"},
    }
    values.update(overrides)
    return AuditEntry(**values)


def new_keyring() -> Keyring:
    return Keyring(KeyMaterial({1: os.urandom(32)}, 1, os.urandom(32), os.urandom(32)))


@pytest.fixture
def entry_factory() -> MakeEntry:
    return make_entry


@pytest.fixture
def log(vault: Vault) -> AuditLog:
    """The vault's audit trail, checkpointing every 10 entries."""
    return AuditLog(vault, checkpoint_every=10)
