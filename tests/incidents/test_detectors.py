"""Automatic raising from the audit trail: unusual volume against the principal's own
30-day baseline, bursts of denials, a failing audit verify, key or policy changes by
a principal outside the allowed roles -- each once, however often ``check`` runs."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from privault.audit import AuditEntry, AuditLog, Kind, Outcome
from privault.audit.acting import acting
from privault.audit.models import ENTRIES
from privault.clock import FixedClock
from privault.incidents.detectors import (
    detect_audit_failure,
    detect_denied_bursts,
    detect_key_policy_changes,
    detect_volume,
    volume_baselines,
)
from privault.incidents.service import IncidentService
from privault.incidents.workflow import Source


def _decision(
    log: AuditLog, clock: FixedClock, principal: str, *, included: int = 0, denied: bool = False
) -> None:
    log.record(
        AuditEntry(
            at=clock.now(),
            kind=Kind.DECISION,
            action="export" if included else "read",
            principal=principal,
            outcome=Outcome.DENIED if denied else Outcome.ALLOWED,
            purpose="essential.service.operations.support",
            subjects=() if included or denied else ("cus_abcdef12",),
            counts={"included": included} if included else {},
        )
    )


def test_volume_far_above_the_principals_own_baseline(
    service: IncidentService, clock: FixedClock
) -> None:
    log = service.audit
    start = clock.now()
    clock.set(start - timedelta(days=30))
    for _day in range(30):  # a steady 100 records a day for 30 days
        _decision(log, clock, "jana.dvorakova", included=100)
        clock.advance(timedelta(days=1))
    clock.set(start - timedelta(hours=1))
    _decision(log, clock, "jana.dvorakova", included=400)  # 400 < max(300, 100, 500)
    clock.set(start)
    base = volume_baselines(service, clock.now())[0]
    assert (base.principal, base.today, round(base.mean)) == ("jana.dvorakova", 400, 100)
    assert base.threshold == 500
    assert detect_volume(service) == []
    _decision(log, clock, "jana.dvorakova", included=5000)
    raised = detect_volume(service)
    assert len(raised) == 1 and raised[0][1]
    view = raised[0][0]
    assert view.source is Source.VOLUME and view.estimated_records == 5400
    assert "threshold" in view.description and "100.0 records a day" in view.description
    assert detect_volume(service) == []  # same day: nothing new


def test_denied_burst_and_no_duplicates(service: IncidentService, clock: FixedClock) -> None:
    log = service.audit
    for _ in range(19):
        _decision(log, clock, "tomas.kral", denied=True)
    assert detect_denied_bursts(service) == []
    _decision(log, clock, "tomas.kral", denied=True)
    raised = detect_denied_bursts(service)
    assert [(v.source, created) for v, created in raised] == [(Source.DENIED_BURST, True)]
    assert detect_denied_bursts(service) == []
    clock.advance(timedelta(minutes=10))
    for _ in range(20):
        _decision(log, clock, "tomas.kral", denied=True)
    again = detect_denied_bursts(service)
    assert [created for _, created in again] == [False]  # added to the open incident
    assert again[0][0].id == raised[0][0].id


def test_audit_verify_failure_opens_one_incident(
    service: IncidentService, clock: FixedClock
) -> None:
    log = service.audit
    _decision(log, clock, "jana.dvorakova")
    _decision(log, clock, "jana.dvorakova")
    assert detect_audit_failure(service) == []
    with service.engine.begin() as connection:
        connection.execute(
            update(ENTRIES).where(ENTRIES.c.seq == 1).values(body=ENTRIES.c.body + " ")
        )
    raised = detect_audit_failure(service)
    assert len(raised) == 1 and raised[0][0].source is Source.AUDIT_VERIFY
    assert raised[0][0].severity.value == "critical"
    assert detect_audit_failure(service) == []


def test_key_or_policy_change_outside_the_allowed_roles(
    service: IncidentService, clock: FixedClock
) -> None:
    log = service.audit
    # compliance, compliance at the command line, the operator: administrative, no
    # incident; tomas.kral (product, e.g. over the API) is not allowed to
    for principal in ("sana.malik", "cli:sana.malik", "cli:root", "tomas.kral"):
        log.record(
            AuditEntry(
                at=clock.now(),
                kind=Kind.KEY,
                action="key.rotate",
                principal=principal,
                outcome=Outcome.SUCCEEDED,
            )
        )
    raised = detect_key_policy_changes(service)
    assert len(raised) == 1
    assert "tomas.kral" in raised[0][0].description
    assert detect_key_policy_changes(service) == []  # the cursor moved on
    log.record(
        AuditEntry(
            at=clock.now(),
            kind=Kind.POLICY,
            action="field.classify",
            principal="tomas.kral",
            outcome=Outcome.SUCCEEDED,
        )
    )
    more = detect_key_policy_changes(service)
    assert [created for _, created in more] == [False]


def test_operator_changes_are_audited_but_raise_no_incident(
    service: IncidentService, clock: FixedClock
) -> None:
    """``privault init``, ``demo`` (acting for the ``demo`` principal) and ``fields
    verify`` are the operator's administrative actions: audited, no incident."""
    log = service.audit
    with acting("cli:root", None):
        log.record(
            AuditEntry(
                at=clock.now(),
                kind=Kind.KEY,
                action="vault.init",
                principal="cli:root",
                outcome=Outcome.SUCCEEDED,
            )
        )
        for principal, action in (("demo", "consent.notice"), ("cli:root", "field.verify")):
            log.record(
                AuditEntry(
                    at=clock.now(),
                    kind=Kind.POLICY,
                    action=action,
                    principal=principal,
                    outcome=Outcome.SUCCEEDED,
                )
            )
    assert detect_key_policy_changes(service) == []
    actions = [e.entry.action for e in log.entries(limit=10)]
    assert {"vault.init", "consent.notice", "field.verify"} <= set(actions)
    assert service.find() == []
