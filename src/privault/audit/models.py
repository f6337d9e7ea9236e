"""Audit tables.  The canonical ``body`` is the record, and the only copy of it.

``audit_entries.body`` holds the exact canonical JSON that was hashed, so verifying
needs no re-serialisation.  There are deliberately no copied columns (time, principal):
a copy could be edited without breaking the chain, and checking copies would halve the
speed of ``verify``.  ``audit_head`` is a single row (``id = 1``) naming the last entry:
appenders lock it, which serialises appends across processes and workers.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import BigInteger, Integer, LargeBinary, Table, Text
from sqlalchemy.orm import Mapped, mapped_column

from privault.store.tables import Base, UTCDateTime

# INTEGER PRIMARY KEY on SQLite is the rowid: ordered scans without a second index.
SeqType = BigInteger().with_variant(Integer(), "sqlite")


class AuditEntryRow(Base):
    __tablename__ = "audit_entries"

    seq: Mapped[int] = mapped_column(SeqType, primary_key=True, autoincrement=False)
    body: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditHead(Base):
    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditCheckpoint(Base):
    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    seq: Mapped[int] = mapped_column(BigInteger, index=True)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    signature: Mapped[bytes] = mapped_column(LargeBinary(64))


ENTRIES = cast(Table, AuditEntryRow.__table__)
HEAD = cast(Table, AuditHead.__table__)
CHECKPOINTS = cast(Table, AuditCheckpoint.__table__)
