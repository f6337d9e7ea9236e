"""Consent tables: notices, the append-only ledger, the derived current state, objections
(Art. 21) and restrictions (Art. 18).

``consent_events`` is the proof and is never updated or deleted by privault;
``consent_states`` is derived from it (one row per customer x purpose x recipient, the
latest event by (occurred_at, id)) so that the consent filter is an index lookup.  Each
state row also carries what selecting customers needs to know about the rest of the
customer's record (``below``, ``below_expiry``, ``screened``): most rows then decide on
their own, and only the others are checked against other rows and tables.
``recipient`` is ``""`` when the purpose is not external sharing, so that it can sit in
a primary key on every database.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from privault.store.tables import Base, UTCDateTime


class ConsentNotice(Base):
    """One version of a privacy notice: what the customer was shown when deciding."""

    __tablename__ = "consent_notices"
    __table_args__ = (UniqueConstraint("key", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    # Space-separated Fides data-use keys, like ``customers.collected_for``.
    purposes: Mapped[str] = mapped_column(Text)
    recipient: Mapped[str] = mapped_column(String(200), default="")
    title_en: Mapped[str] = mapped_column(String(200))
    title_cs: Mapped[str] = mapped_column(String(200))
    title_ur: Mapped[str] = mapped_column(String(200))
    text_en: Mapped[str] = mapped_column(Text)
    text_cs: Mapped[str] = mapped_column(Text)
    text_ur: Mapped[str] = mapped_column(Text)
    expiry_months: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(200))


class ConsentEvent(Base):
    """Append-only: a grant or a withdrawal, with how, when, by whom and evidence."""

    __tablename__ = "consent_events"
    __table_args__ = (Index("ix_consent_events_customer_id_id", "customer_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("customers.id", ondelete="CASCADE")
    )
    purpose: Mapped[str] = mapped_column(String(128))
    recipient: Mapped[str] = mapped_column(String(200), default="")
    action: Mapped[str] = mapped_column(String(8))
    notice_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("consent_notices.id"), nullable=True
    )
    channel: Mapped[str] = mapped_column(String(16))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(200))
    evidence_hash: Mapped[str] = mapped_column(String(64))


class ConsentState(Base):
    """The current decision per customer x purpose x recipient, derived from the ledger.

    ``below``, ``below_expiry`` and ``screened`` are derived too, and kept in the same
    transaction as the change they follow (see ``privault.consent.filters``):

    * ``below`` -- the purposes of the customer's other decisions (same recipient) under
      this one, space-separated with a space at each end (``" a.b a.c "``); ``""`` when
      there are none.  Rows are never deleted, so a key once listed stays listed.
    * ``below_expiry`` -- the earliest ``expires_at`` of the grants listed in ``below``:
      before it, every decision listed there is in force.
    * ``screened`` -- the customer has objected, been restricted or been erased (at any
      time; set by triggers, never cleared): such rows get the exact checks.
    """

    __tablename__ = "consent_states"
    __table_args__ = (
        # The selection index: purpose -> live grants, in ranges by screened and by what
        # lies below (see ``filters._branches``), covering every column they read.
        Index(
            "ix_consent_states_selection",
            "purpose",
            "recipient",
            "status",
            "screened",
            "below_expiry",
            "below",
            "customer_id",
            "expires_at",
        ),
    )

    customer_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    purpose: Mapped[str] = mapped_column(String(128), primary_key=True)
    recipient: Mapped[str] = mapped_column(String(200), primary_key=True, default="")
    status: Mapped[str] = mapped_column(String(8))
    event_id: Mapped[int] = mapped_column(Integer)
    notice_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    below: Mapped[str] = mapped_column(Text, default="", server_default="")
    below_expiry: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    screened: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Objection(Base):
    """Art. 21: the customer objects to processing for a purpose (and its descendants)."""

    __tablename__ = "consent_objections"
    __table_args__ = (Index("ix_consent_objections_customer_id_purpose", "customer_id", "purpose"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("customers.id", ondelete="CASCADE")
    )
    purpose: Mapped[str] = mapped_column(String(128))
    channel: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    lifted_by: Mapped[str | None] = mapped_column(String(200), nullable=True)


class Restriction(Base):
    """Art. 18: while active, the customer's data is only stored, not otherwise processed."""

    __tablename__ = "consent_restrictions"
    __table_args__ = (Index("ix_consent_restrictions_customer_id", "customer_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("customers.id", ondelete="CASCADE")
    )
    channel: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    lifted_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
