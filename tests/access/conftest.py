"""A vault with a few customers and their consents, and a gate over the example policy."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from privault.access.gate import AccessGate
from privault.audit import AuditLog
from privault.consent.schemas import NoticeDraft
from privault.consent.service import ConsentService
from privault.runtime import Vault

# (name, e-mail, consents to marketing?, objects to marketing?)
CUSTOMERS = [
    ("Jana", "jana@example.com", True, False),
    ("Petr", "petr@example.com", True, False),
    ("Zainab", "zainab@example.org", False, False),
    ("Oliver", "oliver@example.net", True, True),
    ("Eva", "eva@example.com", False, False),
]


@pytest.fixture
def gate(vault: Vault) -> Iterator[AccessGate]:
    consent = ConsentService(vault.engine, vault.taxonomy, vault.clock, AuditLog(vault))
    text = {"en": "Offers by e-mail.", "cs": "Nabídky e-mailem.", "ur": "ای میل کے ذریعے پیشکشیں۔"}
    notice = consent.add_notice(
        NoticeDraft(
            key="newsletter", purposes=("marketing.communications.email",), title=text, text=text
        ),
        created_by="dpo",
    )
    for first, email, consents, objects in CUSTOMERS:
        ref = vault.customers.create(
            {"first_name": first, "last_name": "Testová", "email": email, "phone": "602 123 456"}
        )
        if consents:
            consent.grant(
                ref.id, "marketing.communications.email", notice=notice, actor="test", channel="web"
            )
        if objects:
            consent.object(ref.id, "marketing", actor="test", channel="web")
    yield AccessGate(vault)
