"""What the incident slice hands out (views) and takes in over HTTP (request bodies).

Views carry names, codes, counts, times and scrubbed free text -- never customer data.
An anonymous report's reporter is ``None`` in every view unless compliance asked to
reveal it (``IncidentService.get(..., reveal_reporter=True)``, audited).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from privault.incidents.workflow import Nature, Risk, Severity, Source, Status


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when is not None else None


@dataclass(frozen=True, slots=True)
class ClockState:
    """The Art. 33(1) clock: 72 hours (configurable) from awareness."""

    deadline: datetime
    seconds_left: int
    running: bool  # False once the authority was told, or nothing needs telling
    overdue: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "deadline": self.deadline.isoformat(),
            "seconds_left": self.seconds_left,
            "hours_left": round(self.seconds_left / 3600, 1),
            "running": self.running,
            "overdue": self.overdue,
        }


@dataclass(frozen=True, slots=True)
class IncidentView:
    id: str
    source: Source
    status: Status
    severity: Severity
    risk: Risk
    title: str
    description: str
    categories: tuple[str, ...]
    systems: tuple[str, ...]
    estimated_customers: int | None
    estimated_records: int | None
    known_customers: int
    consequences: str
    measures: str
    reporter: str | None
    anonymous: bool
    owner: str | None
    aware_at: datetime
    reported_at: datetime
    authority_notified_at: datetime | None
    customers_notified_at: datetime | None
    late_reason: str | None
    dismissed_reason: str | None
    closed_at: datetime | None
    updated_at: datetime
    clock: ClockState
    # A prevented attempt: when its review is due (working days from the block).
    # A suspected breach: when it became one and when its investigation is due.
    nature: Nature = Nature.SUSPECTED_BREACH
    suspected_at: datetime | None = None
    review_due: datetime | None = None
    investigation_due: datetime | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "nature": self.nature.value,
            "source": self.source.value,
            "status": self.status.value,
            "severity": self.severity.value,
            "risk": self.risk.value,
            "title": self.title,
            "description": self.description,
            "categories": list(self.categories),
            "systems": list(self.systems),
            "estimated_customers": self.estimated_customers,
            "estimated_records": self.estimated_records,
            "known_customers": self.known_customers,
            "consequences": self.consequences,
            "measures": self.measures,
            "reporter": self.reporter,
            "anonymous": self.anonymous,
            "owner": self.owner,
            "aware_at": self.aware_at.isoformat(),
            "reported_at": self.reported_at.isoformat(),
            "authority_notified_at": _iso(self.authority_notified_at),
            "customers_notified_at": _iso(self.customers_notified_at),
            "late_reason": self.late_reason,
            "dismissed_reason": self.dismissed_reason,
            "closed_at": _iso(self.closed_at),
            "updated_at": self.updated_at.isoformat(),
            "suspected_at": _iso(self.suspected_at),
            "review_due": _iso(self.review_due),
            "investigation_due": _iso(self.investigation_due),
            "clock": self.clock.as_json(),
        }


@dataclass(frozen=True, slots=True)
class EventView:
    id: int
    at: datetime
    actor: str
    kind: str
    message: str
    data: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "kind": self.kind,
            "message": self.message,
            "data": self.data,
        }


# -- request bodies (API) -----------------------------------------------------------


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ReportIn(_Body):
    description: str = Field(min_length=1, max_length=5000)
    title: str | None = Field(default=None, max_length=200)
    noticed_at: AwareDatetime | None = None
    categories: list[str] = Field(default_factory=list, max_length=64)
    systems: list[str] = Field(default_factory=list, max_length=64)
    estimated_customers: int | None = Field(default=None, ge=0, le=2**31 - 1)
    estimated_records: int | None = Field(default=None, ge=0, le=2**31 - 1)
    anonymous: bool = False


class AssignIn(_Body):
    owner: str = Field(min_length=1, max_length=128)


class TransitionIn(_Body):
    status: Status
    reason: str | None = Field(default=None, max_length=5000)
    # Converting a prevented attempt into a suspected breach: when the officer became
    # aware that data may have left (the Art. 33(1) clock starts there; now if absent).
    aware_at: AwareDatetime | None = None


class AwareIn(_Body):
    aware_at: AwareDatetime


class NoteIn(_Body):
    text: str = Field(min_length=1, max_length=5000)


class AssessIn(_Body):
    risk: Risk | None = None
    severity: Severity | None = None
    categories: list[str] | None = Field(default=None, max_length=64)
    systems: list[str] | None = Field(default=None, max_length=64)
    estimated_customers: int | None = Field(default=None, ge=0, le=2**31 - 1)
    estimated_records: int | None = Field(default=None, ge=0, le=2**31 - 1)
    consequences: str | None = Field(default=None, max_length=5000)
    measures: str | None = Field(default=None, max_length=5000)
