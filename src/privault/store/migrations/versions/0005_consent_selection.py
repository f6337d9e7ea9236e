"""consent selection: derived columns on consent_states, their index and triggers

Revision ID: 0005_consent_selection
Revises: 0004_incidents
Create Date: 2026-11-23

Selecting the customers who may be used for a purpose reads one index over
``consent_states`` (``ix_consent_states_selection``).  Each state row now says what the
selection needs to know about the rest of the customer's record, so that most rows
decide on their own (see ``privault.consent.filters``):

* ``below`` / ``below_expiry`` -- the purposes of the customer's decisions under this
  one, and the earliest expiry among those that are grants (kept by the consent
  service, which is the only writer of state rows);
* ``screened`` -- the customer has objected, been restricted or been erased.  Triggers
  set it, whoever writes those rows (the consent service, the customer store, a bulk
  import), and never clear it: a lifted objection still applies to earlier times.

Existing rows are filled in here.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_consent_selection"
down_revision = "0004_incidents"
branch_labels = None
depends_on = None

# A state row is screened when its customer has any objection, restriction or erasure.
SQLITE_TRIGGERS = (
    "CREATE TRIGGER consent_screen_objection AFTER INSERT ON consent_objections "
    "BEGIN UPDATE consent_states SET screened = 1 "
    "WHERE customer_id = NEW.customer_id AND screened = 0; END",
    "CREATE TRIGGER consent_screen_restriction AFTER INSERT ON consent_restrictions "
    "BEGIN UPDATE consent_states SET screened = 1 "
    "WHERE customer_id = NEW.customer_id AND screened = 0; END",
    "CREATE TRIGGER consent_screen_erasure AFTER UPDATE OF erased_at ON customers "
    "WHEN NEW.erased_at IS NOT NULL "
    "BEGIN UPDATE consent_states SET screened = 1 "
    "WHERE customer_id = NEW.id AND screened = 0; END",
    "CREATE TRIGGER consent_screen_state AFTER INSERT ON consent_states "
    "WHEN NEW.screened = 0 AND ("
    "EXISTS (SELECT 1 FROM consent_objections WHERE customer_id = NEW.customer_id) "
    "OR EXISTS (SELECT 1 FROM consent_restrictions WHERE customer_id = NEW.customer_id) "
    "OR EXISTS (SELECT 1 FROM customers WHERE id = NEW.customer_id "
    "AND erased_at IS NOT NULL)) "
    "BEGIN UPDATE consent_states SET screened = 1 WHERE customer_id = NEW.customer_id "
    "AND purpose = NEW.purpose AND recipient = NEW.recipient; END",
)
SQLITE_TRIGGER_NAMES = (
    "consent_screen_objection",
    "consent_screen_restriction",
    "consent_screen_erasure",
    "consent_screen_state",
)
POSTGRES_TRIGGERS = (
    "CREATE FUNCTION consent_screen_customer() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN UPDATE consent_states SET screened = true "
    "WHERE customer_id = NEW.customer_id AND NOT screened; RETURN NULL; END $$",
    "CREATE FUNCTION consent_screen_erasure() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN UPDATE consent_states SET screened = true "
    "WHERE customer_id = NEW.id AND NOT screened; RETURN NULL; END $$",
    "CREATE FUNCTION consent_screen_state() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN NEW.screened := NEW.screened "
    "OR EXISTS (SELECT 1 FROM consent_objections WHERE customer_id = NEW.customer_id) "
    "OR EXISTS (SELECT 1 FROM consent_restrictions WHERE customer_id = NEW.customer_id) "
    "OR EXISTS (SELECT 1 FROM customers WHERE id = NEW.customer_id "
    "AND erased_at IS NOT NULL); RETURN NEW; END $$",
    "CREATE TRIGGER consent_screen_objection AFTER INSERT ON consent_objections "
    "FOR EACH ROW EXECUTE FUNCTION consent_screen_customer()",
    "CREATE TRIGGER consent_screen_restriction AFTER INSERT ON consent_restrictions "
    "FOR EACH ROW EXECUTE FUNCTION consent_screen_customer()",
    "CREATE TRIGGER consent_screen_erasure AFTER UPDATE OF erased_at ON customers "
    "FOR EACH ROW WHEN (NEW.erased_at IS NOT NULL) EXECUTE FUNCTION consent_screen_erasure()",
    "CREATE TRIGGER consent_screen_state BEFORE INSERT ON consent_states "
    "FOR EACH ROW EXECUTE FUNCTION consent_screen_state()",
)
POSTGRES_DROPS = (
    "DROP TRIGGER IF EXISTS consent_screen_state ON consent_states",
    "DROP TRIGGER IF EXISTS consent_screen_erasure ON customers",
    "DROP TRIGGER IF EXISTS consent_screen_restriction ON consent_restrictions",
    "DROP TRIGGER IF EXISTS consent_screen_objection ON consent_objections",
    "DROP FUNCTION IF EXISTS consent_screen_state()",
    "DROP FUNCTION IF EXISTS consent_screen_erasure()",
    "DROP FUNCTION IF EXISTS consent_screen_customer()",
)

# ``below``: the customer's purposes (same recipient) strictly under the row's purpose;
# ``below_expiry``: the earliest expiry among those that are grants.
BACKFILL_BELOW = {
    "sqlite": "UPDATE consent_states SET below = COALESCE(("
    "SELECT ' ' || group_concat(d.purpose, ' ') || ' ' "
    "FROM consent_states AS d WHERE d.customer_id = consent_states.customer_id "
    "AND d.recipient = consent_states.recipient "
    "AND substr(d.purpose, 1, length(consent_states.purpose) + 1) "
    "= consent_states.purpose || '.'), '')",
    "postgresql": "UPDATE consent_states SET below = COALESCE(("
    "SELECT ' ' || string_agg(d.purpose, ' ' ORDER BY d.purpose) || ' ' "
    "FROM consent_states AS d WHERE d.customer_id = consent_states.customer_id "
    "AND d.recipient = consent_states.recipient "
    "AND substr(d.purpose, 1, length(consent_states.purpose) + 1) "
    "= consent_states.purpose || '.'), '')",
}
BACKFILL_EXPIRY = (
    "UPDATE consent_states SET below_expiry = (SELECT min(d.expires_at) "
    "FROM consent_states AS d WHERE d.customer_id = consent_states.customer_id "
    "AND d.recipient = consent_states.recipient "
    "AND substr(d.purpose, 1, length(consent_states.purpose) + 1) "
    "= consent_states.purpose || '.' AND d.status = 'grant') WHERE below <> ''"
)
BACKFILL_SCREENED = (
    "UPDATE consent_states SET screened = true WHERE customer_id IN ("
    "SELECT customer_id FROM consent_objections "
    "UNION SELECT customer_id FROM consent_restrictions "
    "UNION SELECT id FROM customers WHERE erased_at IS NOT NULL)"
)


def upgrade() -> None:
    with op.batch_alter_table("consent_states", schema=None) as batch_op:
        batch_op.drop_index("ix_consent_states_filter")
    op.add_column(
        "consent_states", sa.Column("below", sa.Text(), server_default="", nullable=False)
    )
    op.add_column(
        "consent_states", sa.Column("below_expiry", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "consent_states",
        sa.Column("screened", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    dialect = op.get_bind().dialect.name
    op.execute(BACKFILL_BELOW["sqlite" if dialect == "sqlite" else "postgresql"])
    op.execute(BACKFILL_EXPIRY)
    op.execute(BACKFILL_SCREENED)
    with op.batch_alter_table("consent_states", schema=None) as batch_op:
        batch_op.create_index(
            "ix_consent_states_selection",
            [
                "purpose",
                "recipient",
                "status",
                "screened",
                "below_expiry",
                "below",
                "customer_id",
                "expires_at",
            ],
            unique=False,
        )
    for statement in SQLITE_TRIGGERS if dialect == "sqlite" else POSTGRES_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in SQLITE_TRIGGER_NAMES:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        for statement in POSTGRES_DROPS:
            op.execute(statement)
    with op.batch_alter_table("consent_states", schema=None) as batch_op:
        batch_op.drop_index("ix_consent_states_selection")
        batch_op.drop_column("screened")
        batch_op.drop_column("below_expiry")
        batch_op.drop_column("below")
    with op.batch_alter_table("consent_states", schema=None) as batch_op:
        batch_op.create_index(
            "ix_consent_states_filter",
            ["purpose", "recipient", "status", "expires_at", "customer_id"],
            unique=False,
        )
