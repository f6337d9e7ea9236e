"""The schema.  Plaintext customer data never appears in any column: values are sealed
(``customers.sealed``, one AEAD token per field), searchable ones also get a keyed blind
index.

Migrations in ``store/migrations`` create exactly this metadata; a test compares them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final, cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass an aware UTC datetime")
        from datetime import UTC

        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        from datetime import UTC

        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def table_of(model: type[Base]) -> Table:
    """The Core ``Table`` of a mapped class, typed as such (for bulk Core statements)."""
    return cast(Table, model.__table__)


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    language: Mapped[str] = mapped_column(String(8), default="en")
    collected_for: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The customer's data key, wrapped by a master key version; NULL once destroyed.
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    key_version: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Every value of the customer, each sealed on its own under the data key and bound to
    # customer id and field name (a "sealed record", see privault.crypto.keyring).  One
    # row per customer keeps imports and bulk reads to one row; NULL means no values.
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)


class BlindIndex(Base):
    """Keyed HMACs of normalised searchable values.  ``id`` only grows, so readers (the
    scanner's exact-match set) can refresh incrementally."""

    __tablename__ = "blind_indexes"
    __table_args__ = (Index("ix_blind_indexes_field_digest", "field", "digest"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    field: Mapped[str] = mapped_column(String(64))
    digest: Mapped[bytes] = mapped_column(LargeBinary(16))


@dataclass(frozen=True, slots=True)
class IndexRow:
    """One blind-index row as readers see it; ``id`` increases with every insert."""

    id: int
    field: str
    customer_id: str
    digest: bytes


class FieldVerification(Base):
    """R5: the recorded verification (who, when, why) of a field's classification."""

    __tablename__ = "field_verifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    field: Mapped[str] = mapped_column(String(64), index=True)
    classification: Mapped[str] = mapped_column(String(16))
    verified_by: Mapped[str] = mapped_column(String(200))
    verified_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class VaultMeta(Base):
    """Facts about the vault itself (``vault_id``): which key ring this data belongs to."""

    __tablename__ = "vault_meta"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))


class VelocitySeen(Base):
    """The distinct customers each principal read, per slice of the velocity window:
    one row per (principal, slice, customer), written in the audit batch's transaction
    (``incidents.velocity``), so every worker counts into the same place.  Rows hold the
    pseudonymous ids the audit entries already hold, and are pruned after a day."""

    __tablename__ = "velocity_seen"

    principal: Mapped[str] = mapped_column(String(128), primary_key=True)
    slot: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    customer: Mapped[str] = mapped_column(String(128), primary_key=True)


VELOCITY: Final = table_of(VelocitySeen)
