"""An export's rows with fields under different conditions: every customer who passes
any field's condition gets a row, in id order; a field whose condition fails for that
customer is withheld (None), the others are shown in their views."""

from __future__ import annotations

from privault.access import rows
from privault.access.gate import AccessGate
from privault.policy import Condition

MARKETING = "marketing.communications.email"


def test_rows_withhold_exactly_the_fields_a_customer_fails(gate: AccessGate) -> None:
    vault = gate
    for i in range(7):
        vault.customers.create({"first_name": "Ivana", "email": f"ivana{i}@example.cz"})
    plan = rows.RowPlan.build(
        {
            "email": Condition(consent_to=MARKETING, not_objected=MARKETING, not_restricted=True),
            "first_name": Condition(not_restricted=True),
        },
        {"email": "plain", "first_name": "masked"},
        vault.clock.now(),
    )
    with gate.db.connect() as connection:
        found = list(rows.records(vault.customers, plan, connection))

    assert len(found) == vault.customers.count() == 12
    assert [r.customer for r in found] == [r.public_id for r in vault.customers.page(limit=100)]
    with_email = sorted(str(r.values["email"]) for r in found if r.values["email"] is not None)
    # Oliver objected; the others never consented.
    assert with_email == ["jana@example.com", "petr@example.com"]
    assert all(r.values["first_name"] for r in found)
    assert all(r.values["first_name"] != "Ivana" for r in found)  # masked
