"""sealed records: a customer's sealed values move into one column of ``customers``

Revision ID: 0006_sealed_records
Revises: 0005_consent_selection
Create Date: 2026-11-22

``customer_values`` held one row per sealed field; ``customers.sealed`` now holds them
all as a sealed record (``0x01`` then, per field, len(name) u8 | name | len(token) u16 |
token).  The tokens are moved byte for byte: no key is needed and nothing is decrypted,
so each field stays bound to its customer and name.  Importing writes one row per
customer instead of six, and reading many customers one row each (issue #2).
"""

from collections.abc import Iterable

import sqlalchemy as sa
from alembic import op

revision = "0006_sealed_records"
down_revision = "0005_consent_selection"
branch_labels = None
depends_on = None

BATCH = 5000
_customers = sa.table(
    "customers",
    sa.column("id", sa.String),
    sa.column("sealed", sa.LargeBinary),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)
_values = sa.table(
    "customer_values",
    sa.column("customer_id", sa.String),
    sa.column("field", sa.String),
    sa.column("ciphertext", sa.LargeBinary),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)


def _pack(entries: Iterable[tuple[str, bytes]]) -> bytes:
    parts = [b"\x01"]
    for field, token in entries:
        name = field.encode()
        parts += [bytes([len(name)]), name, len(token).to_bytes(2, "big"), bytes(token)]
    return b"".join(parts)


def _unpack(record: bytes) -> list[tuple[str, bytes]]:
    entries, position = [], 1
    while position < len(record):
        name_end = position + 1 + record[position]
        token_end = name_end + 2 + int.from_bytes(record[name_end : name_end + 2], "big")
        entries.append((record[position + 1 : name_end].decode(), record[name_end + 2 : token_end]))
        position = token_end
    return entries


def upgrade() -> None:
    op.add_column("customers", sa.Column("sealed", sa.LargeBinary(), nullable=True))
    bind = op.get_bind()
    last = ""
    while True:  # customer by customer, in id order, a batch of customers at a time
        ids = (
            bind.execute(
                sa.select(_customers.c.id)
                .where(_customers.c.id > last)
                .order_by(_customers.c.id)
                .limit(BATCH)
            )
            .scalars()
            .all()
        )
        if not ids:
            break
        rows = bind.execute(
            sa.select(_values.c.customer_id, _values.c.field, _values.c.ciphertext)
            .where(_values.c.customer_id.in_(ids))
            .order_by(_values.c.customer_id, _values.c.field)
        ).all()
        grouped: dict[str, list[tuple[str, bytes]]] = {}
        for customer_id, field, token in rows:
            grouped.setdefault(customer_id, []).append((field, token))
        if grouped:
            bind.execute(
                sa.update(_customers)
                .where(_customers.c.id == sa.bindparam("b_id"))
                .values(sealed=sa.bindparam("b_sealed")),
                [{"b_id": cid, "b_sealed": _pack(entries)} for cid, entries in grouped.items()],
            )
        last = ids[-1]
    op.drop_table("customer_values")


def downgrade() -> None:
    op.create_table(
        "customer_values",
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_values_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("customer_id", "field", name=op.f("pk_customer_values")),
    )
    bind = op.get_bind()
    last = ""
    while True:
        rows = bind.execute(
            sa.select(_customers.c.id, _customers.c.sealed, _customers.c.updated_at)
            .where(_customers.c.id > last)
            .order_by(_customers.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        values = [
            {"customer_id": cid, "field": field, "ciphertext": token, "updated_at": updated}
            for cid, sealed, updated in rows
            if sealed
            for field, token in _unpack(bytes(sealed))
        ]
        if values:
            bind.execute(sa.insert(_values), values)
        last = rows[-1][0]
    op.drop_column("customers", "sealed")
