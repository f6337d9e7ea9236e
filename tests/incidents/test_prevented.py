"""Prevented attempts and suspected breaches (DESIGN.md §7, R7).

A blocked transfer is a prevented attempt: no 72-hour clock, no Art. 33 draft, a review
due in working days, convertible by the officer into a suspected breach.  A suspected
breach has an investigation timer and the Art. 33(1) clock from the awareness time the
officer records -- 72 elapsed hours, never rolled to a working day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from privault.clock import FixedClock
from privault.errors import InvalidInput, InvalidTransition
from privault.incidents.notices import authority_notice, customer_notice
from privault.incidents.schemas import IncidentView
from privault.incidents.service import IncidentService
from privault.incidents.workflow import (
    FINAL,
    TRANSITIONS,
    Nature,
    Severity,
    Source,
    Status,
    nature_of,
)
from tests.incidents.conftest import Factory

OFFICER = "sana.malik"


def _prevented(service: IncidentService) -> IncidentView:
    result = service.raise_detected(
        source=Source.SCAN_BLOCK,
        dedup_key="scan:test",
        title="customer data blocked by the egress scanner",
        description="Blocked.",
        severity=Severity.LOW,
        prevented=True,
    )
    assert result is not None
    return result[0]


def test_the_table_has_the_prevented_branch() -> None:
    assert TRANSITIONS[Status.PREVENTED] == {Status.REVIEWED, Status.REPORTED}
    assert TRANSITIONS[Status.REVIEWED] == frozenset() and Status.REVIEWED in FINAL
    # nothing leads back into a prevented attempt
    assert all(Status.PREVENTED not in targets for targets in TRANSITIONS.values())
    assert nature_of(Status.PREVENTED) is Nature.PREVENTED_ATTEMPT
    assert nature_of(Status.DISMISSED) is Nature.SUSPECTED_BREACH


def test_a_prevented_attempt_has_no_clock_and_a_review_in_working_days(
    service: IncidentService, clock: FixedClock
) -> None:
    # Sunday 22 November 2026, 09:00 UTC: five Czech working days end on Friday 27th
    view = _prevented(service)
    assert view.status is Status.PREVENTED and view.nature is Nature.PREVENTED_ATTEMPT
    assert view.severity is Severity.LOW
    assert not view.clock.running and view.suspected_at is None
    assert view.review_due == datetime(2026, 11, 27, 23, 0, tzinfo=UTC)
    with pytest.raises(InvalidInput):
        authority_notice(service, view.id)
    with pytest.raises(InvalidInput):
        customer_notice(service, view, "en")
    with pytest.raises(InvalidTransition):
        service.transition(view.id, Status.NOTIFIED, actor=OFFICER)
    clock.advance(timedelta(days=200))
    assert service.check_deadlines() == [] and service.overdue() == []
    service.check_deadlines()
    kinds = [e.kind for e in service.timeline(view.id)]
    assert kinds.count("review_overdue") == 1


def test_review_needs_a_finding_and_keeps_it_out_of_the_breach_register(
    service: IncidentService,
) -> None:
    view = _prevented(service)
    breach = service.report(reporter="jana.dvorakova", description="A list was mailed out.")
    with pytest.raises(InvalidInput):
        service.transition(view.id, Status.REVIEWED, actor=OFFICER)
    reviewed = service.transition(
        view.id, Status.REVIEWED, actor=OFFICER, reason="The file was prepared for support."
    )
    assert reviewed.status is Status.REVIEWED and reviewed.closed_at is not None
    assert [r["id"] for r in service.register()] == [breach.id]
    prevented = service.register(prevented=True)
    assert [r["id"] for r in prevented] == [view.id]
    assert prevented[0]["nature"] == "prevented_attempt"
    assert view.id not in service.register_csv() and view.id in service.register_csv(prevented=True)


def test_conversion_starts_the_clock_at_the_recorded_awareness_never_rolled(
    service: IncidentService, clock: FixedClock
) -> None:
    view = _prevented(service)
    clock.set(datetime(2026, 11, 30, 8, 0, tzinfo=UTC))  # Monday
    friday = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    with pytest.raises(InvalidInput):  # not in the future
        service.transition(
            view.id, Status.REPORTED, actor=OFFICER, aware_at=clock.now() + timedelta(hours=1)
        )
    converted = service.transition(view.id, Status.REPORTED, actor=OFFICER, aware_at=friday)
    assert converted.nature is Nature.SUSPECTED_BREACH and converted.status is Status.REPORTED
    assert converted.severity is Severity.MEDIUM
    assert converted.aware_at == friday
    # 72 elapsed hours through the weekend: Monday 10:00, not rolled
    assert converted.clock.deadline == datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    assert converted.clock.running and converted.clock.seconds_left == 2 * 3600
    assert converted.suspected_at == clock.now()
    assert converted.investigation_due == clock.now() + timedelta(hours=24)
    assert converted.review_due is None
    events = service.timeline(view.id)
    assert events[-1].kind == "converted" and events[-1].actor == OFFICER
    actions = [e.entry.action for e in service.audit.entries(limit=5)]
    assert "incident.convert" in actions
    authority_notice(service, view.id)  # a breach now: the draft exists


def test_conversion_without_awareness_starts_now(
    service: IncidentService, clock: FixedClock
) -> None:
    view = _prevented(service)
    clock.advance(timedelta(hours=5))
    converted = service.transition(view.id, Status.REPORTED, actor=OFFICER)
    assert converted.aware_at == clock.now()
    assert converted.clock.seconds_left == 72 * 3600


def test_the_officer_records_awareness_of_a_reported_breach(
    service: IncidentService, clock: FixedClock
) -> None:
    breach = service.report(reporter="jana.dvorakova", description="Laptop lost.")
    assert breach.aware_at == breach.reported_at  # the report time when none recorded
    assert breach.investigation_due == breach.reported_at + timedelta(hours=24)
    with pytest.raises(InvalidInput):  # awareness goes with a conversion only
        service.transition(breach.id, Status.TRIAGED, actor=OFFICER, aware_at=clock.now())
    clock.advance(timedelta(hours=30))
    service.check_deadlines()
    assert [e.kind for e in service.timeline(breach.id)].count("investigation_overdue") == 1
    later = clock.now() - timedelta(hours=2)
    view = service.record_awareness(breach.id, later, actor=OFFICER)
    assert view.aware_at == later and view.clock.deadline == later + timedelta(hours=72)
    assert service.audit.entries(limit=1)[0].entry.action == "incident.aware"
    prevented = _prevented(service)
    with pytest.raises(InvalidInput):
        service.record_awareness(prevented.id, later, actor=OFFICER)


def test_custom_review_and_investigation_periods(make_service: Factory, clock: FixedClock) -> None:
    service = make_service(
        notifier=False, incident_review_working_days=1, incident_investigation_hours=4
    )
    view = _prevented(service)
    assert view.review_due == datetime(2026, 11, 23, 23, 0, tzinfo=UTC)  # Monday
    breach = service.report(reporter="tomas.kral", description="Printed list missing.")
    assert breach.investigation_due == clock.now() + timedelta(hours=4)
