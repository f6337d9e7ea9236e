"""Consent changes in the audit trail, written in the change's own transaction."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from privault.audit import AuditEntry, AuditLog, Kind, Outcome
from privault.clock import Clock
from privault.consent.filters import CUSTOMERS

_NOT_IDENT = re.compile(r"[^\w.:@/+-]")


def audit_name(text: str) -> str:
    """People's and partners' names as audit identifiers (no spaces or quotes)."""
    return _NOT_IDENT.sub("-", text).strip("-_.")[:128]


class ConsentTrail:
    """Appends one entry per consent change."""

    def __init__(self, audit: AuditLog, clock: Clock) -> None:
        self.audit = audit
        self.clock = clock

    def record(
        self,
        session: Session,
        action: str,
        actor: str,
        *,
        customer_id: str | None = None,
        purpose: str | None = None,
        recipient: str | None = None,
        channel: str | None = None,
        kind: Kind = Kind.CONSENT,
    ) -> None:
        """Record a change in the audit trail, in the change's own transaction: if the
        entry cannot be written, the change does not happen either (fail closed)."""
        subjects: tuple[str, ...] = ()
        if customer_id is not None:
            public_id = session.execute(
                select(CUSTOMERS.c.public_id).where(CUSTOMERS.c.id == customer_id)
            ).scalar_one()
            subjects = (public_id,)
        principal = audit_name(actor) or "unknown"
        self.audit.append(
            session.connection(),
            AuditEntry(
                at=self.clock.now(),
                kind=kind,
                action=f"consent.{action}",
                principal=principal,
                outcome=Outcome.SUCCEEDED,
                purpose=purpose,
                recipient=audit_name(recipient) if recipient else None,
                subjects=subjects,
                details={"channel": channel} if channel else {},
            ),
        )
