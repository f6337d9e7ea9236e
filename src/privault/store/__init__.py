"""Persistence: SQLAlchemy 2 tables, Alembic migrations, SQLite (embedded) and PostgreSQL."""

from privault.store.db import make_engine, session_scope
from privault.store.migrate import current_revision, upgrade

__all__ = ["current_revision", "make_engine", "session_scope", "upgrade"]
