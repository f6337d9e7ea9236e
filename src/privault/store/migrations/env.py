"""Alembic environment: the engine is handed in by ``privault.store.migrate``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from privault.store.migrate import full_metadata

engine = context.config.attributes.get("engine")
if not isinstance(engine, Engine):
    raise RuntimeError("run migrations through privault.store.migrate, which passes the engine")

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=full_metadata(),
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    context.run_migrations()
