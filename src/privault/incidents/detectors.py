"""Raising incidents automatically (R7), each without duplicates.

Every detector names its cause with a *dedup key* (one open incident per key: a new
detection adds a line to that incident's timeline) and each detected event with an
*occurrence* (a day, a time window, an audit entry: seen once, never again).

=====================  =============================================================
detector               fires when (settings in brackets)
=====================  =============================================================
scanner block          ``privault scan`` gives ``block`` on personal data found: a
                       *prevented attempt* (low, no 72-hour clock, a review deadline);
                       key = fingerprint of the customers and recipient, so the same
                       file twice is one incident.  A block on nothing found (a typo'd
                       path, an unreadable file) is the operator's, not an incident
volume                 a principal's customer records read or exported in the last
                       24 h exceed ``max(factor x mean, mean + sigmas x std, floor)``
                       of its own daily totals over the previous ``baseline_days``
                       [3.0, 4.0, 500, 30]
denied burst           ``burst`` or more denied requests by one principal within
                       ``window`` minutes [20, 10]
audit verify           ``AuditLog.verify()`` reports a problem
key / policy change    an audit entry of kind ``key`` or ``policy`` by a principal that
                       is neither in the compliance team (``policy.roles``), nor
                       ``cli:<such a principal>``, nor listed in
                       ``incident_change_principals``, nor made by the operator
                       (``cli:<os user>``, with or without ``--as``): administrative
                       actions -- ``init``, ``demo``, ``fields verify`` -- are audited,
                       not incidents
velocity               more distinct customers read by one principal within
                       ``incident_velocity_window_seconds`` than its role's baseline
                       [300, 60]; counted inline (``incidents.velocity``)
=====================  =============================================================

Detectors read the audit trail's canonical bodies with a substring pre-filter (the
canonical JSON is fixed, so ``"kind":"decision"`` appears verbatim) and parse only
candidate rows; the change detector keeps a cursor so it reads each entry once.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from privault.audit.acting import actor_of
from privault.audit.canonical import parse_time
from privault.audit.models import ENTRIES
from privault.errors import N_, StoreError
from privault.incidents.models import CURSORS
from privault.incidents.schemas import IncidentView
from privault.incidents.service import IncidentService
from privault.incidents.velocity import detect_velocity
from privault.incidents.workflow import SOURCE_LABELS, Severity, Source
from privault.policy import Policy
from privault.policy.roles import compliance_principals
from privault.scan import Recipient, ScanReport

READ_BATCH: Final[int] = 2000
OPERATOR_PREFIX: Final = "cli:"
DEMO_SETUP: Final = "demo"
"""Whom ``privault demo`` acts for while it plays the S1 story: entries the operator
wrote on behalf of the demo set-up are administrative, and no detector counts them."""
CHANGE_CURSOR: Final = "key_policy_change"
# The descriptions below are stored with the incident as written (an English record,
# like the register itself); their headings and labels are translated where shown.

SCAN_DESCRIPTION: Final = (
    "The egress scanner blocked content with data of %(count)s of our customers "
    "(%(fields)s) going to a recipient of kind '%(kind)s' for purpose '%(purpose)s'. "
    "Reasons: %(reasons)s."
)
VOLUME_DESCRIPTION: Final = (
    "Principal %(principal)s read or exported %(today)s customer records in the last "
    "24 hours. Its usual level over the previous %(days)s days is %(mean)s records a day "
    "(standard deviation %(std)s); the alarm threshold is the largest of %(factor)s times "
    "the mean, the mean plus %(sigmas)s standard deviations, and %(floor)s records, "
    "which is %(threshold)s."
)
DENIED_DESCRIPTION: Final = (
    "Principal %(principal)s was refused %(count)s times within %(minutes)s minutes "
    "(the threshold is %(threshold)s): someone may be probing for data they may not see."
)
VERIFY_DESCRIPTION: Final = (
    "The audit trail failed verification at entry %(seq)s (%(reason)s): the record of "
    "who accessed customer data may have been altered or removed."
)
CHANGE_DESCRIPTION: Final = (
    "Principal %(principal)s made a %(kind)s change (%(action)s, audit entry %(seq)s) but is "
    "not among the principals allowed to change keys or policy."
)


def _fingerprint(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]


# -- the scanner ----------------------------------------------------------------------


class IncidentBlockHandler:
    """The scanner's ``BlockHandler``: a ``block`` opens an incident or adds to the open
    one for the same content and recipient.  The incident gets counts, field names and
    reason codes; the customers' internal ids go to ``incident_subjects`` (for Art. 34
    notices); no matched value and no recipient address is kept."""

    def __init__(
        self, service: IncidentService, *, actor: str = "privault", open_incident: bool = True
    ) -> None:
        self.service = service
        self.actor = actor
        # False: compliance scanned with ``--no-incident``; the block is only audited.
        self.open_incident = open_incident
        self.raised: list[tuple[IncidentView, bool]] = []

    def on_block(
        self, report: ScanReport, recipient: Recipient | None, purpose: str | None
    ) -> None:
        verdict = report.verdict
        codes = tuple(sorted({r.code for r in verdict.reasons})) if verdict else ()
        matches = report.matches
        if not matches.customers and not any(report.counts.values()):
            # Nothing personal was found: the block is about files that could not be
            # read (a typo'd path, a broken archive).  The operator's mistake is no
            # attempt to move data: audited, no incident.
            self.service.record_not_raised(
                self.actor, Source.SCAN_BLOCK, "nothing_found", files=len(report.files)
            )
            return
        if not self.open_incident:
            self.service.record_not_raised(
                self.actor,
                Source.SCAN_BLOCK,
                "no_incident_flag",
                files=len(report.files),
                customers=matches.customers,
            )
            return
        if recipient is None:
            kind = "unknown"
        elif recipient.name is not None:
            kind = "internal"
        else:
            kind = "external"
        key = "scan:" + _fingerprint(
            ",".join(sorted(matches.customer_ids)),
            recipient.label if recipient else "",
            purpose or "",
            ",".join(codes),
            ",".join(f"{k}={v}" for k, v in sorted(report.counts.items()))
            if not matches.customer_ids
            else "",
        )
        fields = ", ".join(sorted(matches.by_field)) or "-"
        catalog = self.service.catalog
        categories = [catalog.fields[f].category for f in matches.by_field if f in catalog]
        result = self.service.raise_detected(
            source=Source.SCAN_BLOCK,
            dedup_key=key,
            title=SOURCE_LABELS[Source.SCAN_BLOCK],
            description=SCAN_DESCRIPTION
            % {
                "count": matches.customers,
                "fields": fields,
                "kind": kind,
                "purpose": purpose or "-",
                "reasons": ", ".join(codes) or "-",
            },
            severity=Severity.LOW,
            prevented=True,
            categories=categories,
            systems=("egress-scanner",),
            estimated_customers=matches.customers,
            estimated_records=sum(matches.by_field.values()) or None,
            customer_ids=matches.customer_ids,
            data={
                "customers": matches.customers,
                "by_field": dict(sorted(matches.by_field.items())),
                "reasons": list(codes),
                "recipient_kind": kind,
                "purpose": purpose,
                "files": len(report.files),
                "scanned_by": self.actor,
            },
        )
        if result is not None:
            self.raised.append(result)


# -- reading the audit trail ----------------------------------------------------------


def _bodies(engine: Engine, needle: str, since: datetime) -> Iterator[dict[str, Any]]:
    """Parsed audit bodies containing ``needle``, newest first, back to ``since``."""
    before: int | None = None
    try:
        with engine.connect() as connection:
            while True:
                query = select(ENTRIES.c.seq, ENTRIES.c.body).where(
                    ENTRIES.c.body.contains(needle, autoescape=True)
                )
                if before is not None:
                    query = query.where(ENTRIES.c.seq < before)
                rows = connection.execute(
                    query.order_by(ENTRIES.c.seq.desc()).limit(READ_BATCH)
                ).all()
                if not rows:
                    return
                older = 0
                for seq, body in rows:
                    data = json.loads(body)
                    data["seq"] = seq
                    if parse_time(data["at"]) < since:
                        older += 1
                        continue
                    yield data
                if older == len(rows):
                    return
                before = rows[-1][0]
    except SQLAlchemyError as exc:
        raise StoreError(N_("The audit trail could not be read.")) from exc


def _records(body: dict[str, Any]) -> int:
    """Customer records a decision handed out: 1 per subject read, ``included`` of an
    export (what the gate records)."""
    if body["outcome"] not in ("allowed", "partial", "succeeded"):
        return 0
    if body["action"] == "export":
        return int(body["counts"].get("included", 0))
    if body["action"] == "read":
        return max(1, len(body["subjects"]))
    return 0


# -- volume ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Baseline:
    principal: str
    today: int
    mean: float
    std: float
    threshold: int


def volume_baselines(service: IncidentService, now: datetime) -> list[Baseline]:
    settings = service.settings
    days = settings.incident_baseline_days
    since = now - timedelta(days=days + 1)
    daily: dict[str, list[int]] = defaultdict(lambda: [0] * (days + 1))
    for body in _bodies(service.engine, '"kind":"decision"', since):
        if is_demo_setup(body):
            continue
        records = _records(body)
        if not records:
            continue
        age = now - parse_time(body["at"])
        index = int(age.total_seconds() // 86400)  # 0 = the last 24 hours
        if 0 <= index <= days:
            daily[body["principal"]][index] += records
    found = []
    for principal, totals in daily.items():
        history = totals[1:]
        mean = sum(history) / len(history)
        std = math.sqrt(sum((x - mean) ** 2 for x in history) / len(history))
        threshold = math.ceil(
            max(
                settings.incident_volume_factor * mean,
                mean + settings.incident_volume_sigmas * std,
                settings.incident_volume_min_records,
            )
        )
        found.append(Baseline(principal, totals[0], mean, std, threshold))
    return sorted(found, key=lambda b: b.principal)


def detect_volume(service: IncidentService) -> list[tuple[IncidentView, bool]]:
    now = service.clock.now()
    settings = service.settings
    raised = []
    for base in volume_baselines(service, now):
        if base.today <= base.threshold:
            continue
        result = service.raise_detected(
            source=Source.VOLUME,
            dedup_key=f"volume:{base.principal}",
            title=SOURCE_LABELS[Source.VOLUME],
            description=VOLUME_DESCRIPTION
            % {
                "principal": base.principal,
                "today": base.today,
                "days": settings.incident_baseline_days,
                "mean": f"{base.mean:.1f}",
                "std": f"{base.std:.1f}",
                "factor": settings.incident_volume_factor,
                "sigmas": settings.incident_volume_sigmas,
                "floor": settings.incident_volume_min_records,
                "threshold": base.threshold,
            },
            severity=Severity.HIGH,
            estimated_records=base.today,
            occurrence=f"volume:{base.principal}:{now.date().isoformat()}",
            data={
                "principal": base.principal,
                "records_24h": base.today,
                "mean": round(base.mean, 1),
                "std": round(base.std, 1),
                "threshold": base.threshold,
            },
        )
        if result is not None:
            raised.append(result)
    return raised


# -- denied bursts --------------------------------------------------------------------


def detect_denied_bursts(service: IncidentService) -> list[tuple[IncidentView, bool]]:
    now = service.clock.now()
    settings = service.settings
    window = timedelta(minutes=settings.incident_denied_window_minutes)
    counts: dict[str, int] = defaultdict(int)
    for body in _bodies(service.engine, '"outcome":"denied"', now - window):
        if body["kind"] == "decision" and not is_demo_setup(body):
            counts[body["principal"]] += 1
    bucket = int(now.timestamp() // window.total_seconds())
    raised = []
    for principal, count in sorted(counts.items()):
        if count < settings.incident_denied_burst:
            continue
        result = service.raise_detected(
            source=Source.DENIED_BURST,
            dedup_key=f"denied:{principal}",
            title=SOURCE_LABELS[Source.DENIED_BURST],
            description=DENIED_DESCRIPTION
            % {
                "principal": principal,
                "count": count,
                "minutes": settings.incident_denied_window_minutes,
                "threshold": settings.incident_denied_burst,
            },
            severity=Severity.MEDIUM,
            occurrence=f"denied:{principal}:{bucket}",
            data={
                "principal": principal,
                "denied": count,
                "window_minutes": settings.incident_denied_window_minutes,
            },
        )
        if result is not None:
            raised.append(result)
    return raised


# -- audit verify ---------------------------------------------------------------------


def detect_audit_failure(service: IncidentService) -> list[tuple[IncidentView, bool]]:
    report = service.audit.verify()
    if report.ok or report.problem is None:
        return []
    problem = report.problem
    result = service.raise_detected(
        source=Source.AUDIT_VERIFY,
        dedup_key="audit_verify",
        title=SOURCE_LABELS[Source.AUDIT_VERIFY],
        description=VERIFY_DESCRIPTION % {"seq": problem.seq, "reason": problem.reason.value},
        severity=Severity.CRITICAL,
        systems=("audit-trail",),
        occurrence=f"audit_verify:{problem.reason.value}:{problem.seq}",
        data={"seq": problem.seq, "reason": problem.reason.value},
    )
    return [result] if result is not None else []


# -- key and policy changes -----------------------------------------------------------


def allowed_changers(service: IncidentService, policy: Policy | None = None) -> frozenset[str]:
    if policy is None:
        policy = _effective_policy(service)
    names = compliance_principals(policy)
    return frozenset(
        {*names, *(f"cli:{n}" for n in names), *service.settings.incident_change_principals}
    )


def is_operator(body: dict[str, Any]) -> bool:
    """Whether the operator (``cli:<os user>``, who holds the key ring) made the entry,
    itself or on behalf of a principal (``--as``): an administrative action."""
    actor, _behalf = actor_of(body)
    return actor.startswith(OPERATOR_PREFIX) or str(body["principal"]).startswith(OPERATOR_PREFIX)


def is_demo_setup(body: dict[str, Any]) -> bool:
    """Whether the operator wrote the entry while setting up the demo."""
    actor, behalf = actor_of(body)
    return behalf == DEMO_SETUP and actor.startswith(OPERATOR_PREFIX)


def _effective_policy(service: IncidentService) -> Policy:
    return service.policy()


def _cursor(engine: Engine) -> int:
    with engine.connect() as connection:
        row = connection.execute(
            select(CURSORS.c.seq).where(CURSORS.c.name == CHANGE_CURSOR)
        ).first()
    return int(row[0]) if row is not None else 0


def _set_cursor(engine: Engine, seq: int) -> None:
    with engine.begin() as connection:
        done = connection.execute(
            update(CURSORS)
            .where(CURSORS.c.name == CHANGE_CURSOR, CURSORS.c.seq < seq)
            .values(seq=seq)
        ).rowcount
        if (
            not done
            and connection.execute(
                select(CURSORS.c.seq).where(CURSORS.c.name == CHANGE_CURSOR)
            ).first()
            is None
        ):
            connection.execute(insert(CURSORS).values(name=CHANGE_CURSOR, seq=seq))


def detect_key_policy_changes(
    service: IncidentService, policy: Policy | None = None
) -> list[tuple[IncidentView, bool]]:
    engine = service.engine
    start = _cursor(engine)
    allowed = allowed_changers(service, policy)
    raised = []
    last = start
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(ENTRIES.c.seq, ENTRIES.c.body)
                .where(ENTRIES.c.seq > start)
                .where(
                    ENTRIES.c.body.contains('"kind":"key"', autoescape=True)
                    | ENTRIES.c.body.contains('"kind":"policy"', autoescape=True)
                )
                .order_by(ENTRIES.c.seq)
            ).all()
            head = connection.execute(
                select(ENTRIES.c.seq).order_by(ENTRIES.c.seq.desc()).limit(1)
            ).scalar()
    except SQLAlchemyError as exc:
        raise StoreError(N_("The audit trail could not be read.")) from exc
    for seq, text in rows:
        body = json.loads(text)
        last = max(last, seq)
        if body["kind"] not in ("key", "policy") or body["principal"] in allowed:
            continue
        if is_operator(body):
            continue
        principal = body["principal"]
        result = service.raise_detected(
            source=Source.KEY_POLICY_CHANGE,
            dedup_key=f"change:{principal}",
            title=SOURCE_LABELS[Source.KEY_POLICY_CHANGE],
            description=CHANGE_DESCRIPTION
            % {
                "principal": principal,
                "kind": body["kind"],
                "action": body["action"],
                "seq": seq,
            },
            severity=Severity.HIGH,
            systems=("keys" if body["kind"] == "key" else "policy",),
            occurrence=f"change:{seq}",
            data={
                "principal": principal,
                "kind": body["kind"],
                "action": body["action"],
                "audit_seq": seq,
            },
        )
        if result is not None:
            raised.append(result)
    if head is not None:
        _set_cursor(engine, max(last, int(head)))
    return raised


# -- all of them ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CheckReport:
    raised: Sequence[tuple[IncidentView, bool]]
    warnings: Sequence[tuple[IncidentView, str, int]]
    overdue: Sequence[IncidentView]

    def as_json(self) -> dict[str, Any]:
        return {
            "raised": [
                {"id": v.id, "source": v.source.value, "opened": created}
                for v, created in self.raised
            ],
            "warnings": [{"id": v.id, "event": e, "hours": h} for v, e, h in self.warnings],
            "overdue": [
                {"id": v.id, "deadline": v.clock.deadline.isoformat()} for v in self.overdue
            ],
        }


def run_checks(
    service: IncidentService, policy: Policy | None = None, *, actor: str = "privault"
) -> CheckReport:
    """Every detector, then the deadline warnings: what ``privault incident check``
    (run from cron) does; the run itself is audited as ``actor``'s."""
    raised: list[tuple[IncidentView, bool]] = []
    raised += detect_audit_failure(service)
    raised += detect_key_policy_changes(service, policy)
    raised += detect_volume(service)
    raised += detect_denied_bursts(service)
    raised += detect_velocity(service, policy)
    warnings = service.check_deadlines()
    report = CheckReport(raised, warnings, service.overdue())
    service.record_check(
        actor,
        {
            "raised": len(raised),
            "opened": sum(1 for _, opened in raised if opened),
            "warnings": len(warnings),
            "overdue": len(report.overdue),
        },
    )
    return report
