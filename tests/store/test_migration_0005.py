"""0005_consent_selection fills the derived columns of existing state rows exactly as the
consent service keeps them, and downgrades cleanly, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import command
from sqlalchemy import Engine

from privault.consent.filters import STATES as TABLE
from privault.consent.filters import selection_columns
from privault.settings import Settings
from privault.store import make_engine
from privault.store.migrate import _script_config, current_revision, head_revision, upgrade

BEFORE = "0004_incidents"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
SOON = datetime(2026, 6, 1, tzinfo=UTC)
LATER = datetime(2027, 1, 1, tzinfo=UTC)

# customer -> [(purpose, recipient, status, expires_at)]
STATES: dict[str, list[tuple[str, str, str, datetime | None]]] = {
    "a" * 32: [
        ("marketing", "", "grant", None),
        ("marketing.communications", "", "withdraw", None),
        ("marketing.communications.email", "", "grant", LATER),
        ("marketing.communications.sms", "", "grant", SOON),
        ("third_party_sharing", "Acme", "grant", None),
    ],
    "b" * 32: [("marketing", "", "grant", None)],
    "c" * 32: [("marketing", "", "grant", SOON), ("marketing.communications", "", "grant", None)],
    "d" * 32: [("marketing", "", "grant", None)],
}
OBJECTING, RESTRICTED, ERASED = "b" * 32, "c" * 32, "d" * 32


def _table(name: str, *columns: str) -> Any:
    return sa.table(name, *(sa.column(c) for c in columns))


def _load(engine: Engine) -> None:
    customers = _table(
        "customers",
        "id",
        "public_id",
        "language",
        "collected_for",
        "created_at",
        "updated_at",
        "wrapped_key",
        "key_version",
        "erased_at",
    )
    states = _table(
        "consent_states",
        "customer_id",
        "purpose",
        "recipient",
        "status",
        "event_id",
        "decided_at",
        "expires_at",
    )
    with engine.begin() as connection:
        for i, cid in enumerate(STATES):
            connection.execute(
                customers.insert().values(
                    id=cid,
                    public_id=f"cus_{i}",
                    language="en",
                    collected_for="",
                    created_at=T0,
                    updated_at=T0,
                    wrapped_key=None if cid == ERASED else b"k",
                    key_version=None if cid == ERASED else 1,
                    erased_at=T0 if cid == ERASED else None,
                )
            )
            for j, (purpose, recipient, status, expires) in enumerate(STATES[cid]):
                connection.execute(
                    states.insert().values(
                        customer_id=cid,
                        purpose=purpose,
                        recipient=recipient,
                        status=status,
                        event_id=10 * i + j,
                        decided_at=T0,
                        expires_at=expires,
                    )
                )
        connection.execute(
            _table(
                "consent_objections",
                "customer_id",
                "purpose",
                "channel",
                "actor",
                "reason",
                "recorded_at",
            )
            .insert()
            .values(
                customer_id=OBJECTING,
                purpose="profiling",
                channel="web",
                actor="t",
                reason="",
                recorded_at=T0,
            )
        )
        connection.execute(
            _table(
                "consent_restrictions",
                "customer_id",
                "channel",
                "actor",
                "reason",
                "recorded_at",
                "lifted_at",
            )
            .insert()
            .values(
                customer_id=RESTRICTED,
                channel="web",
                actor="t",
                reason="",
                recorded_at=T0,
                lifted_at=SOON,
            )
        )


def test_upgrade_fills_existing_rows_and_downgrade_restores(db_url: str, tmp_path: Any) -> None:
    engine = make_engine(Settings(home=tmp_path / "home", database_url=db_url))
    try:
        upgrade(engine, BEFORE)
        _load(engine)
        assert upgrade(engine) == head_revision()
        with engine.connect() as connection:
            rows = connection.execute(
                sa.select(
                    TABLE.c.customer_id,
                    TABLE.c.purpose,
                    TABLE.c.recipient,
                    TABLE.c.below,
                    TABLE.c.below_expiry,
                    TABLE.c.screened,
                )
            ).all()
        assert len(rows) == sum(len(v) for v in STATES.values())
        for cid, purpose, recipient, below, expiry, screened in rows:
            mine = {p: (s, e) for p, r, s, e in STATES[cid] if r == recipient}
            want_below, want_expiry = selection_columns(mine)[purpose]
            # The same keys (a database may list them in another order), and the expiry.
            assert below == want_below or sorted(below.split()) == want_below.split()
            assert below == "" or (below.startswith(" ") and below.endswith(" "))
            assert expiry == want_expiry
            assert screened == (cid in (OBJECTING, RESTRICTED, ERASED))

        config = _script_config()
        config.attributes["engine"] = engine
        command.downgrade(config, BEFORE)
        assert current_revision(engine) == BEFORE
        assert upgrade(engine) == head_revision()
    finally:
        engine.dispose()
