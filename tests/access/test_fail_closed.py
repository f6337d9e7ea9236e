"""R2 fail closed at the gate: when the audit trail cannot be written, nothing is
decrypted, no data is returned and no write happens."""

from __future__ import annotations

import pytest

from privault.access.gate import AccessGate
from privault.errors import AuditUnavailable
from tests.audit.test_fail_closed import make_unwritable

SUPPORT = "essential.service.operations.support"


def test_reads_exports_and_writes_fail_without_data(gate: AccessGate) -> None:
    ref = gate.customers.find("email", "jana@example.com")[0]
    opened: list[str] = []
    original = gate.customers.fetch

    def spy(customer_id: str, fields: list[str]) -> dict[str, str | None]:
        opened.append(customer_id)
        return original(customer_id, fields)

    gate.customers.fetch = spy  # type: ignore[method-assign,assignment]
    before = gate.customers.count()
    make_unwritable(gate.db)

    with pytest.raises(AuditUnavailable):
        gate.read("jana.dvorakova", SUPPORT, ref.public_id, ["email"])
    with pytest.raises(AuditUnavailable):
        gate.lookup("jana.dvorakova", SUPPORT, "email", "jana@example.com", ["email"])
    with pytest.raises(AuditUnavailable):
        gate.export("ayesha.khan", "marketing.communications.email", ["email"])
    with pytest.raises(AuditUnavailable):
        gate.create("jana.dvorakova", SUPPORT, {"last_name": "Nová", "email": "n@example.com"})
    with pytest.raises(AuditUnavailable):
        gate.write("jana.dvorakova", SUPPORT, ref.public_id, {"email": "changed@example.com"})

    assert opened == []
    assert gate.customers.count() == before
    assert original(ref.id, ["email"]) == {"email": "jana@example.com"}
