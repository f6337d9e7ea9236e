"""Principals added at run time and their API keys (stored hashed, shown once)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from privault.store.tables import Base, UTCDateTime


class PrincipalRecord(Base):
    """A principal added with ``privault principals add``; the policy file may declare more."""

    __tablename__ = "principals"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    roles: Mapped[str] = mapped_column(Text)  # space-separated role names
    internal: Mapped[bool] = mapped_column(Boolean, default=True)
    kind: Mapped[str] = mapped_column(String(16), default="person")
    organisation: Mapped[str | None] = mapped_column(String(128), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ApiKeyRecord(Base):
    """An API key: ``pv_<key id>_<secret>``; only the SHA-256 of the secret is kept."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    principal: Mapped[str] = mapped_column(String(128), index=True)
    secret_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    note: Mapped[str] = mapped_column(String(200), default="")
