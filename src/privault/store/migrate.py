"""Apply Alembic migrations programmatically (``privault init`` / ``privault upgrade``).

Slices may add revisions on their own branches (each revising ``0001``); upgrading
goes to every head, and a later merge revision joins them.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, MetaData

from privault.store.tables import Base

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

# Every module that declares tables on ``Base``; imported before comparing or migrating
# so that ``Base.metadata`` is complete.  Each slice with tables adds its models here.
MODEL_MODULES: tuple[str, ...] = ("privault.store.tables",)
MODEL_MODULES += ("privault.consent.models",)
MODEL_MODULES += ("privault.audit.models",)
MODEL_MODULES += ("privault.access.models",)
MODEL_MODULES += ("privault.incidents.models",)


def full_metadata() -> MetaData:
    for name in MODEL_MODULES:
        importlib.import_module(name)
    return Base.metadata


def _script_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def upgrade(engine: Engine, revision: str = "heads") -> str | None:
    """Bring the schema to ``revision`` (default: every head); returns the state now."""
    config = _script_config()
    config.attributes["engine"] = engine
    command.upgrade(config, revision)
    return current_revision(engine)


def current_revision(engine: Engine) -> str | None:
    """The applied revision(s) joined with '+', or None for an empty database."""
    with engine.connect() as connection:
        heads = MigrationContext.configure(connection).get_current_heads()
    return "+".join(sorted(heads)) if heads else None


def head_revision() -> str | None:
    heads = ScriptDirectory.from_config(_script_config()).get_heads()
    return "+".join(sorted(heads)) if heads else None
