"""The migrations create exactly the tables the code declares, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from privault.runtime import Vault
from privault.store.migrate import current_revision, full_metadata, head_revision, upgrade


def test_migrated_schema_matches_the_models(vault: Vault) -> None:
    with vault.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, full_metadata())
    assert differences == []


def test_upgrade_is_idempotent(vault: Vault) -> None:
    assert current_revision(vault.engine) == head_revision()
    assert upgrade(vault.engine) == head_revision()
