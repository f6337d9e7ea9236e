"""Every consent change is in the audit trail, in the same transaction as the change."""

from __future__ import annotations

import pytest

from privault.audit import AuditLog
from privault.consent.schemas import NoticeDraft
from privault.consent.service import ConsentService
from privault.errors import AuditUnavailable
from privault.runtime import Vault
from tests.audit.test_fail_closed import make_unwritable

TEXT = {"en": "Offers.", "cs": "Nabídky.", "ur": "پیشکشیں۔"}


def test_changes_are_audited_and_fail_closed(vault: Vault) -> None:
    consent = ConsentService(vault.engine, vault.taxonomy, vault.clock, AuditLog(vault))
    notice = consent.add_notice(
        NoticeDraft(
            key="offers", purposes=("marketing.communications.email",), title=TEXT, text=TEXT
        ),
        created_by="Sana Malik",
    )
    ref = vault.customers.create({"last_name": "Hussain", "email": "z.h@example.org"})
    consent.grant(
        ref.id,
        "marketing.communications.email",
        notice=notice,
        channel="web",
        actor="preference-centre",
    )
    consent.withdraw(
        ref.id,
        "marketing.communications.email",
        notice=None,
        channel="phone",
        actor="Jana Dvořáková",
    )
    consent.object(ref.id, "marketing", channel="paper", actor="jana.dvorakova")
    consent.restrict(ref.id, channel="api", actor="sana.malik")

    log = AuditLog(vault)
    entries = [e.entry for e in reversed(log.entries(limit=10))]
    assert [(e.kind, e.action) for e in entries] == [
        ("policy", "consent.notice"),
        ("consent", "consent.grant"),
        ("consent", "consent.withdraw"),
        ("consent", "consent.object"),
        ("consent", "consent.restrict"),
    ]
    assert all(e.subjects == (ref.public_id,) for e in entries[1:])
    assert entries[2].principal == "Jana-Dvořáková" and entries[2].details == {"channel": "phone"}
    assert "z.h@example.org" not in repr(entries)
    assert log.verify().ok

    make_unwritable(vault.engine)
    with pytest.raises(AuditUnavailable):
        consent.grant(
            ref.id,
            "marketing.communications.email",
            notice=notice,
            channel="web",
            actor="preference-centre",
        )
    state = consent.customer_consent_state(ref.id)
    assert not state.has_consent("marketing.communications.email")
