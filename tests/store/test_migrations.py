"""The migrations create exactly the tables the code declares, on both databases."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, text

from privault.clock import FixedClock
from privault.crypto import FileKeyProvider, create_key_file, open_keyring
from privault.runtime import Vault, open_vault
from privault.settings import Settings
from privault.store import make_engine
from privault.store.migrate import (
    MIGRATIONS_DIR,
    current_revision,
    full_metadata,
    head_revision,
    upgrade,
)


def test_migrated_schema_matches_the_models(vault: Vault) -> None:
    with vault.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, full_metadata())
    assert differences == []


def test_upgrade_is_idempotent(vault: Vault) -> None:
    assert current_revision(vault.engine) == head_revision()
    assert upgrade(vault.engine) == head_revision()


def test_sealed_values_move_into_records_and_back(settings: Settings, clock: FixedClock) -> None:
    """0006 moves customer_values rows into customers.sealed byte for byte (no key
    needed), and its downgrade moves them back."""
    create_key_file(settings.effective_key_file)
    engine = make_engine(settings)
    upgrade(engine, "0004_incidents")
    keyring = open_keyring(FileKeyProvider(settings.effective_key_file))
    now = clock.now()
    values = {"email": "jan@example.com", "phone": "+420602123456"}
    with engine.begin() as connection:
        for customer_id, fields in (("c1", values), ("c2", {}), ("c3", {"city": "Brno"})):
            key, wrapped = keyring.new_data_key(customer_id)
            connection.execute(
                text(
                    "INSERT INTO customers (id, public_id, language, collected_for, created_at,"
                    " updated_at, wrapped_key, key_version) VALUES (:id, :public, 'cs', '',"
                    " :now, :now, :wrapped, 1)"
                ),
                {"id": customer_id, "public": "cus_" + customer_id, "now": now, "wrapped": wrapped},
            )
            for field, value in fields.items():
                connection.execute(
                    text(
                        "INSERT INTO customer_values (customer_id, field, ciphertext, updated_at)"
                        " VALUES (:id, :field, :token, :now)"
                    ),
                    {
                        "id": customer_id,
                        "field": field,
                        "token": keyring.seal(key, customer_id, field, value),
                        "now": now,
                    },
                )
    with engine.connect() as connection:
        before = connection.execute(
            text("SELECT customer_id, field, ciphertext FROM customer_values ORDER BY 1, 2")
        ).all()
    upgrade(engine)
    engine.dispose()
    vault = open_vault(settings, clock)
    try:
        assert vault.customers.fetch("c1", ["email", "phone", "city"]) == {**values, "city": None}
        assert vault.customers.fetch("c2", ["email"]) == {"email": None}
        assert dict(vault.customers.fetch_many(["c3", "c1"], ["city"])) == {
            "c3": {"city": "Brno"},
            "c1": {"city": None},
        }
    finally:
        vault.close()
    engine = make_engine(settings)
    try:
        command.downgrade(_downgrade_config(engine), "0004_incidents")
        with engine.connect() as connection:
            after = connection.execute(
                text("SELECT customer_id, field, ciphertext FROM customer_values ORDER BY 1, 2")
            ).all()
        assert [(c, f, bytes(t)) for c, f, t in after] == [(c, f, bytes(t)) for c, f, t in before]
    finally:
        engine.dispose()


def _downgrade_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config
