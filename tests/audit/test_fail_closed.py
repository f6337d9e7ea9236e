"""Fail closed: when the trail cannot be written, the caller's work is rolled back."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

import pytest
from sqlalchemy import Engine, Table, func, insert, select, text
from sqlalchemy.orm import Session

from privault.audit import AuditLog
from privault.errors import AuditUnavailable, StoreError
from privault.store.db import session_scope
from privault.store.tables import Customer
from tests.audit.conftest import make_entry

CUSTOMERS = cast(Table, Customer.__table__)

PG_TRIGGER = (
    "CREATE FUNCTION audit_refuse() RETURNS trigger AS $$ BEGIN "
    "RAISE EXCEPTION 'audit trail is read-only'; END $$ LANGUAGE plpgsql",
    "CREATE TRIGGER audit_refuse BEFORE INSERT ON audit_entries "
    "FOR EACH ROW EXECUTE FUNCTION audit_refuse()",
)
SQLITE_TRIGGER = (
    "CREATE TRIGGER audit_refuse BEFORE INSERT ON audit_entries "
    "BEGIN SELECT RAISE(ABORT, 'audit trail is read-only'); END",
)


def make_unwritable(engine: Engine) -> None:
    statements = PG_TRIGGER if engine.dialect.name == "postgresql" else SQLITE_TRIGGER
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))


def customers(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(CUSTOMERS)).scalar_one())


def add_customer(session: Session, number: int) -> None:
    now = datetime(2026, 11, 22, tzinfo=UTC)
    session.execute(
        insert(CUSTOMERS).values(
            id=f"c{number}",
            public_id=f"cus_{number:016x}",
            language="en",
            collected_for="",
            created_at=now,
            updated_at=now,
        )
    )


def test_unwritable_trail_rolls_back_the_callers_transaction(log: AuditLog) -> None:
    log.record(make_entry(1))
    with session_scope(log.engine) as session:  # the normal path commits both
        add_customer(session, 1)
        log.append(session, make_entry(2))
    assert customers(log.engine) == 1

    make_unwritable(log.engine)
    with pytest.raises(AuditUnavailable) as caught, session_scope(log.engine) as session:
        add_customer(session, 2)  # the caller's work ...
        log.append(session, make_entry(3))  # ... then the entry, which cannot be written
        pytest.fail("must not get here: no data may be returned")  # pragma: no cover
    assert isinstance(caught.value, StoreError)
    assert caught.value.code == "audit_unavailable" and caught.value.http_status == 503
    assert customers(log.engine) == 1  # rolled back
    with pytest.raises(AuditUnavailable):
        log.record(make_entry(4))
    report = log.verify()
    assert report.ok and report.last_seq == 2  # nothing half-written


def test_missing_tables_fail_closed(log: AuditLog) -> None:
    with log.engine.begin() as connection:
        connection.execute(text("DROP TABLE audit_head"))
    with pytest.raises(AuditUnavailable):
        log.record(make_entry(1))
    with pytest.raises(AuditUnavailable):
        log.checkpoint()
    with pytest.raises(StoreError):
        log.verify()


def test_message_is_translated() -> None:
    error = AuditUnavailable()
    assert "audit" in str(error)
    assert error.localized("cs") != str(error)
    assert error.localized("ur") != str(error)
