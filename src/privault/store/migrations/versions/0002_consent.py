"""consent ledger, notices, states, objections, restrictions

Revision ID: 0002_consent
Revises: 0001
Create Date: 2026-11-22

On its own branch from 0001 (slices add sibling branches; upgrade goes to every head).
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_consent"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consent_notices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("purposes", sa.Text(), nullable=False),
        sa.Column("recipient", sa.String(length=200), nullable=False),
        sa.Column("title_en", sa.String(length=200), nullable=False),
        sa.Column("title_cs", sa.String(length=200), nullable=False),
        sa.Column("title_ur", sa.String(length=200), nullable=False),
        sa.Column("text_en", sa.Text(), nullable=False),
        sa.Column("text_cs", sa.Text(), nullable=False),
        sa.Column("text_ur", sa.Text(), nullable=False),
        sa.Column("expiry_months", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_notices")),
        sa.UniqueConstraint("key", "version", name=op.f("uq_consent_notices_key_version")),
    )
    op.create_table(
        "consent_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("purpose", sa.String(length=128), nullable=False),
        sa.Column("recipient", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("evidence_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_consent_events_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["consent_notices.id"],
            name=op.f("fk_consent_events_notice_id_consent_notices"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_events")),
    )
    with op.batch_alter_table("consent_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_consent_events_customer_id_id", ["customer_id", "id"], unique=False
        )

    op.create_table(
        "consent_objections",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("purpose", sa.String(length=128), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lifted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lifted_by", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_consent_objections_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_objections")),
    )
    with op.batch_alter_table("consent_objections", schema=None) as batch_op:
        batch_op.create_index(
            "ix_consent_objections_customer_id_purpose", ["customer_id", "purpose"], unique=False
        )

    op.create_table(
        "consent_restrictions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lifted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lifted_by", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_consent_restrictions_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_restrictions")),
    )
    with op.batch_alter_table("consent_restrictions", schema=None) as batch_op:
        batch_op.create_index("ix_consent_restrictions_customer_id", ["customer_id"], unique=False)

    op.create_table(
        "consent_states",
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("purpose", sa.String(length=128), nullable=False),
        sa.Column("recipient", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_consent_states_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "customer_id", "purpose", "recipient", name=op.f("pk_consent_states")
        ),
    )
    with op.batch_alter_table("consent_states", schema=None) as batch_op:
        batch_op.create_index(
            "ix_consent_states_filter",
            ["purpose", "recipient", "status", "expires_at", "customer_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("consent_states", schema=None) as batch_op:
        batch_op.drop_index("ix_consent_states_filter")

    op.drop_table("consent_states")
    with op.batch_alter_table("consent_restrictions", schema=None) as batch_op:
        batch_op.drop_index("ix_consent_restrictions_customer_id")

    op.drop_table("consent_restrictions")
    with op.batch_alter_table("consent_objections", schema=None) as batch_op:
        batch_op.drop_index("ix_consent_objections_customer_id_purpose")

    op.drop_table("consent_objections")
    with op.batch_alter_table("consent_events", schema=None) as batch_op:
        batch_op.drop_index("ix_consent_events_customer_id_id")

    op.drop_table("consent_events")
    op.drop_table("consent_notices")
