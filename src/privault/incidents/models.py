"""Incident tables.  Free text is scrubbed of personal data before it gets here, the
reporter of an anonymous report is sealed (only privault can open it, for compliance),
and affected customers are kept as internal ids -- never their data.

``incident_events`` is the append-only timeline: the migration adds triggers that
refuse UPDATE and DELETE on it (and DELETE on ``incidents``: the register of Art.
33(5) keeps everything), and the service has no path that would try.
``open_key`` equals ``dedup_key`` while an incident is open and is NULL after, so a
unique index lets at most one open incident exist per automatic cause.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from privault.store.tables import Base, UTCDateTime, table_of


class Incident(Base):
    __tablename__ = "incidents"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    source: Mapped[str] = mapped_column(String(32))
    dedup_key: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)
    open_key: Mapped[str | None] = mapped_column(String(128), nullable=True, unique=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    severity: Mapped[str] = mapped_column(String(16))
    risk: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    categories: Mapped[str] = mapped_column(Text)  # JSON list of data category keys
    systems: Mapped[str] = mapped_column(Text)  # JSON list of system names
    estimated_customers: Mapped[int | None] = mapped_column(Integer, nullable=True)
    estimated_records: Mapped[int | None] = mapped_column(Integer, nullable=True)
    consequences: Mapped[str] = mapped_column(Text)
    measures: Mapped[str] = mapped_column(Text)
    reporter: Mapped[str | None] = mapped_column(String(128), nullable=True)
    reporter_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    anonymous: Mapped[bool] = mapped_column(Boolean)
    owner: Mapped[str | None] = mapped_column(String(128), nullable=True)
    aware_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    # When it became a suspected breach (reported, or converted from a prevented
    # attempt): the investigation timer runs from here.  NULL for a prevented attempt.
    suspected_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    authority_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    customers_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    late_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    dismissed_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class IncidentEvent(Base):
    """One line of the timeline.  ``occurrence`` names a detected event (a day, a
    window, an audit entry) so that running a detector again adds nothing."""

    __tablename__ = "incident_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[str] = mapped_column(String(32), ForeignKey("incidents.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)
    data: Mapped[str] = mapped_column(Text)  # JSON object: codes and numbers
    occurrence: Mapped[str | None] = mapped_column(String(160), nullable=True, index=True)


class IncidentSubject(Base):
    """A customer (internal id) known to be affected: for Art. 34 notices and counts."""

    __tablename__ = "incident_subjects"

    incident_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("incidents.id"), primary_key=True
    )
    customer_id: Mapped[str] = mapped_column(String(32), primary_key=True)


class IncidentCursor(Base):
    """How far a detector has read the audit trail (the key/policy change detector)."""

    __tablename__ = "incident_cursors"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)


INCIDENTS: Final = table_of(Incident)
EVENTS: Final = table_of(IncidentEvent)
SUBJECTS: Final = table_of(IncidentSubject)
CURSORS: Final = table_of(IncidentCursor)
