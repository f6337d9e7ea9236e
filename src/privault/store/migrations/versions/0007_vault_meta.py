"""vault_meta: the vault's identity (``vault_id``), shared with its key ring

Revision ID: 0007_vault_meta
Revises: 0006_sealed_records
Create Date: 2026-12-07

``privault init`` records a random ``vault_id`` in the key ring and here; opening a key
ring with the data of another vault is refused.  Vaults made before this revision get
their id from ``privault upgrade``.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_vault_meta"
down_revision = "0006_sealed_records"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "vault_meta",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_vault_meta")),
    )


def downgrade() -> None:
    op.drop_table("vault_meta")
