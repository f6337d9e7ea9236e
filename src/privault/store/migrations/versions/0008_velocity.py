"""velocity_seen: distinct customers read per principal and time slot; incidents.suspected_at

Revision ID: 0008_velocity
Revises: 0007_vault_meta
Create Date: 2026-12-07

``velocity_seen`` is written in the audit batch's transaction (one row per principal,
slot and customer read) and read by ``privault incident check`` to raise the velocity
incident.  ``incidents.suspected_at`` is when an incident became a suspected breach (its
investigation timer starts there); prevented attempts have none.  Existing incidents
were all treated as breaches: they get their report time.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_velocity"
down_revision = "0007_vault_meta"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "velocity_seen",
        sa.Column("principal", sa.String(length=128), nullable=False),
        sa.Column("slot", sa.BigInteger(), nullable=False),
        sa.Column("customer", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("principal", "slot", "customer", name=op.f("pk_velocity_seen")),
    )
    # A plain ADD COLUMN (no table copy: the register's triggers stay where they are).
    op.add_column("incidents", sa.Column("suspected_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE incidents SET suspected_at = reported_at")


def downgrade() -> None:
    op.drop_column("incidents", "suspected_at")
    op.drop_table("velocity_seen")
