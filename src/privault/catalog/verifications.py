"""R5 in the store: a field is public only after a recorded verification (who, when, why)."""

from __future__ import annotations

from sqlalchemy import Engine, insert, select, update

from privault.audit import AuditEntry, AuditLog, Kind, Outcome
from privault.catalog.fields import Classification, FieldCatalog, Verification
from privault.errors import N_, InvalidInput
from privault.store.db import session_scope
from privault.store.tables import FieldVerification, table_of

VERIFICATIONS = table_of(FieldVerification)


def load_verifications(engine: Engine) -> dict[str, Verification]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(VERIFICATIONS).where(VERIFICATIONS.c.active.is_(True))
        ).all()
    return {
        row.field: Verification(row.classification, row.verified_by, row.verified_at, row.reason)
        for row in rows
    }


def record_verification(
    engine: Engine,
    catalog: FieldCatalog,
    audit: AuditLog,
    *,
    field: str,
    classification: Classification,
    verified_by: str,
    reason: str,
    actor: str,
) -> Verification:
    """Record a classification; the previous one stays in the table, inactive, as history."""
    catalog.require(field)
    if classification not in ("confidential", "public"):
        raise InvalidInput(N_("Classification must be 'confidential' or 'public'."))
    if not verified_by.strip() or len(reason.strip()) < 10:
        raise InvalidInput(
            N_("A verification needs who verified it and a reason of at least 10 characters.")
        )
    now = audit.clock.now()
    with session_scope(engine) as session:
        session.execute(
            update(VERIFICATIONS).where(VERIFICATIONS.c.field == field).values(active=False)
        )
        session.execute(
            insert(VERIFICATIONS).values(
                field=field,
                classification=classification,
                verified_by=verified_by.strip(),
                verified_at=now,
                reason=reason.strip(),
                active=True,
            )
        )
        # R5 classifications change what needs no need-to-know: a policy change.
        audit.append(
            session.connection(),
            AuditEntry(
                at=now,
                kind=Kind.POLICY,
                action="field.classify",
                principal=actor,
                outcome=Outcome.SUCCEEDED,
                fields=(field,),
                categories=(catalog.require(field).category,),
                details={"classification": classification},
            ),
        )
    return Verification(classification, verified_by.strip(), now, reason.strip())
