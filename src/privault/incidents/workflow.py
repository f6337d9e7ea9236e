"""The incident state machine as a table, and the words of the workflow.

Two kinds of incident (DESIGN.md §7: "a blocked transfer is a prevented attempt, not a
breach; a breach is something that left"):

    prevented ──► reviewed                       a prevented attempt (nothing left):
        │                                         low severity, no 72-hour clock, no
        │ (the officer converts it)               Art. 33 draft, reviewed in N working days
        ▼
    reported ──► triaged ──► contained ──► notified ──► closed     a suspected breach:
        │           │  └────────────────────►┘             ▲      the investigation timer
        │           │              └───────────────────────┘      and the Art. 33(1) clock
        │           │                           (risk "none" only)  run from awareness
        └───────────┴──────────────┴──► dismissed (with a reason)

``notified`` means the supervisory authority was told (GDPR Art. 33); an incident
whose risk was assessed as ``none`` may close without it, documented in the register
(Art. 33(5)).  ``closed``, ``dismissed`` and ``reviewed`` are final.  ``prevented ->
reported`` is the conversion into a suspected breach: the clock starts then (or at the
awareness time the officer records).  Guards that depend on the incident's facts (a
reason, the risk) live in ``service.IncidentService.transition``; this table decides
which moves exist at all.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from privault.errors import N_, InvalidTransition


class Status(StrEnum):
    PREVENTED = "prevented"
    REVIEWED = "reviewed"
    REPORTED = "reported"
    TRIAGED = "triaged"
    CONTAINED = "contained"
    NOTIFIED = "notified"
    CLOSED = "closed"
    DISMISSED = "dismissed"


class Risk(StrEnum):
    """Art. 33/34 assessment: none; risk -> tell the authority; high -> also customers."""

    UNASSESSED = "unassessed"
    NONE = "none"
    RISK = "risk"
    HIGH = "high"


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class Source(StrEnum):
    """Who or what opened the incident."""

    REPORT = "report"
    SCAN_BLOCK = "scan_block"
    VOLUME = "volume"
    DENIED_BURST = "denied_burst"
    AUDIT_VERIFY = "audit_verify"
    KEY_POLICY_CHANGE = "key_policy_change"
    VELOCITY = "velocity"


class Nature(StrEnum):
    """What an incident is: an attempt that was stopped, or a (suspected) breach."""

    PREVENTED_ATTEMPT = "prevented_attempt"
    SUSPECTED_BREACH = "suspected_breach"


TRANSITIONS: Final[dict[Status, frozenset[Status]]] = {
    Status.PREVENTED: frozenset({Status.REVIEWED, Status.REPORTED}),
    Status.REVIEWED: frozenset(),
    Status.REPORTED: frozenset({Status.TRIAGED, Status.DISMISSED}),
    Status.TRIAGED: frozenset({Status.CONTAINED, Status.NOTIFIED, Status.DISMISSED}),
    Status.CONTAINED: frozenset({Status.NOTIFIED, Status.CLOSED, Status.DISMISSED}),
    Status.NOTIFIED: frozenset({Status.CLOSED}),
    Status.CLOSED: frozenset(),
    Status.DISMISSED: frozenset(),
}
OPEN: Final[frozenset[Status]] = frozenset(
    {Status.PREVENTED, Status.REPORTED, Status.TRIAGED, Status.CONTAINED}
)
FINAL: Final[frozenset[Status]] = frozenset({Status.CLOSED, Status.DISMISSED, Status.REVIEWED})
PREVENTED_STATES: Final[frozenset[Status]] = frozenset({Status.PREVENTED, Status.REVIEWED})
"""The states of a prevented attempt; every other state is a (suspected) breach's."""

STATUS_LABELS: Final[dict[Status, str]] = {
    Status.PREVENTED: N_("prevented attempt, to review"),
    Status.REVIEWED: N_("prevented attempt, reviewed"),
    Status.REPORTED: N_("reported"),
    Status.TRIAGED: N_("triaged"),
    Status.CONTAINED: N_("contained"),
    Status.NOTIFIED: N_("authority notified"),
    Status.CLOSED: N_("closed"),
    Status.DISMISSED: N_("dismissed"),
}
RISK_LABELS: Final[dict[Risk, str]] = {
    Risk.UNASSESSED: N_("not yet assessed"),
    Risk.NONE: N_("unlikely to result in a risk to people's rights and freedoms"),
    Risk.RISK: N_("likely to result in a risk to people's rights and freedoms"),
    Risk.HIGH: N_("likely to result in a high risk to people's rights and freedoms"),
}
SOURCE_LABELS: Final[dict[Source, str]] = {
    Source.REPORT: N_("reported by a person"),
    Source.SCAN_BLOCK: N_("customer data blocked by the egress scanner"),
    Source.VOLUME: N_("unusual volume of reads or exports"),
    Source.DENIED_BURST: N_("burst of denied requests"),
    Source.AUDIT_VERIFY: N_("audit trail verification failed"),
    Source.KEY_POLICY_CHANGE: N_("key or policy change by a principal not allowed to make it"),
    Source.VELOCITY: N_("one principal read unusually many distinct customers in a short time"),
}
NATURE_LABELS: Final[dict[Nature, str]] = {
    Nature.PREVENTED_ATTEMPT: N_("prevented attempt"),
    Nature.SUSPECTED_BREACH: N_("suspected breach"),
}


def nature_of(status: Status) -> Nature:
    """A prevented attempt until the officer converts it into a suspected breach."""
    return Nature.PREVENTED_ATTEMPT if status in PREVENTED_STATES else Nature.SUSPECTED_BREACH


def check_transition(current: Status, target: Status) -> None:
    """Raise ``InvalidTransition`` unless the table allows ``current -> target``."""
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "-"
        raise InvalidTransition(
            N_("An incident cannot move from %(current)s to %(target)s (allowed: %(allowed)s)."),
            current=current.value,
            target=target.value,
            allowed=allowed,
        )


def parse_status(value: str) -> Status:
    try:
        return Status(value)
    except ValueError:
        from privault.errors import InvalidInput

        raise InvalidInput(N_("Unknown incident status '%(value)s'."), value=value) from None
