"""The workflow: the transition table, its guards, the append-only timeline, the
register (dismissed incidents included), anonymous reporters, scrubbed free text."""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import delete, text, update
from sqlalchemy.exc import DBAPIError

from privault.audit import Kind
from privault.errors import InvalidInput, InvalidTransition
from privault.incidents.models import EVENTS, INCIDENTS
from privault.incidents.service import IncidentService
from privault.incidents.workflow import TRANSITIONS, Risk, Status, check_transition


def test_the_table_allows_exactly_the_documented_moves() -> None:
    assert TRANSITIONS[Status.REPORTED] == {Status.TRIAGED, Status.DISMISSED}
    assert TRANSITIONS[Status.NOTIFIED] == {Status.CLOSED}
    assert TRANSITIONS[Status.CLOSED] == TRANSITIONS[Status.DISMISSED] == frozenset()
    for source in Status:
        for target in Status:
            if target in TRANSITIONS[source]:
                check_transition(source, target)
            else:
                with pytest.raises(InvalidTransition):
                    check_transition(source, target)


def test_full_path_and_invalid_transitions(service: IncidentService) -> None:
    view = service.report(
        reporter="jana.dvorakova",
        description="A list was sent to a friend.",
        estimated_customers=120,
        categories=["user.contact.email"],
    )
    assert view.status is Status.REPORTED and view.reporter == "jana.dvorakova"
    with pytest.raises(InvalidTransition):
        service.transition(view.id, Status.CLOSED, actor="sana.malik")
    with pytest.raises(InvalidTransition):
        service.transition(view.id, Status.NOTIFIED, actor="sana.malik")
    service.transition(view.id, Status.TRIAGED, actor="sana.malik")
    service.assign(view.id, "sana.malik", actor="sana.malik")
    with pytest.raises(InvalidInput):  # the risk must be assessed before notifying
        service.transition(view.id, Status.NOTIFIED, actor="sana.malik")
    service.assess(view.id, actor="sana.malik", risk=Risk.RISK, measures="Mail recalled.")
    service.transition(view.id, Status.CONTAINED, actor="sana.malik")
    with pytest.raises(InvalidInput):  # risk: the authority must be told before closing
        service.transition(view.id, Status.CLOSED, actor="sana.malik")
    notified = service.transition(view.id, Status.NOTIFIED, actor="sana.malik")
    assert notified.authority_notified_at is not None and not notified.clock.running
    closed = service.transition(view.id, Status.CLOSED, actor="sana.malik")
    assert closed.status is Status.CLOSED and closed.closed_at is not None
    with pytest.raises(InvalidTransition):
        service.transition(view.id, Status.TRIAGED, actor="sana.malik")
    kinds = [e.kind for e in service.timeline(view.id)]
    assert kinds == ["reported", "status", "assigned", "assessed", "status", "status", "status"]
    actions = [
        e.entry.action for e in service.audit.entries(limit=50) if e.entry.kind is Kind.INCIDENT
    ]
    assert actions.count("incident.transition") == 4 and "incident.report" in actions


def test_dismissal_needs_a_reason_and_stays_in_the_register(service: IncidentService) -> None:
    kept = service.report(reporter="tomas.kral", description="Printed list left on a desk.")
    dismissed = service.report(reporter="tomas.kral", description="False alarm, I think.")
    with pytest.raises(InvalidInput):
        service.transition(dismissed.id, Status.DISMISSED, actor="sana.malik")
    service.transition(
        dismissed.id, Status.DISMISSED, actor="sana.malik", reason="The list held no customer data."
    )
    rows = {r["id"]: r for r in service.register()}
    assert set(rows) == {kept.id, dismissed.id}
    assert rows[dismissed.id]["status"] == "dismissed"
    assert rows[dismissed.id]["dismissed_reason"] == "The list held no customer data."
    parsed = list(csv.DictReader(io.StringIO(service.register_csv())))
    assert {r["id"]: r["status"] for r in parsed} == {
        kept.id: "reported",
        dismissed.id: "dismissed",
    }
    json.dumps(service.register())  # the JSON export is serialisable as is


def test_the_timeline_cannot_be_edited_or_deleted(service: IncidentService) -> None:
    view = service.report(reporter="jana.dvorakova", description="Something odd.")
    service.note(view.id, "Called the IT desk.", actor="sana.malik")
    engine = service.engine
    for statement in (
        update(EVENTS).where(EVENTS.c.incident_id == view.id).values(message="rewritten"),
        delete(EVENTS).where(EVENTS.c.incident_id == view.id),
        delete(INCIDENTS).where(INCIDENTS.c.id == view.id),
    ):
        with pytest.raises(DBAPIError), engine.begin() as connection:
            connection.execute(statement)
    if engine.dialect.name == "postgresql":
        with pytest.raises(DBAPIError), engine.begin() as connection:
            connection.execute(text("TRUNCATE incident_events CASCADE"))
    assert [e.message for e in service.timeline(view.id)][-1] == "Called the IT desk."
    # and the service offers no way to change or remove a line
    assert not [n for n in dir(service) if n.startswith(("edit", "delete", "update", "remove"))]


def test_anonymous_reporter_is_sealed_and_only_revealed_on_request(
    service: IncidentService,
) -> None:
    view = service.report(
        reporter="jana.dvorakova",
        description="My manager asked me to export all customers.",
        anonymous=True,
    )
    assert view.reporter is None and view.anonymous
    assert all(e.actor == "anonymous" for e in service.timeline(view.id))
    with service.engine.connect() as connection:
        dump = " ".join(str(v) for row in connection.execute(INCIDENTS.select()) for v in row)
        dump += " ".join(str(v) for row in connection.execute(EVENTS.select()) for v in row)
    assert "jana.dvorakova" not in dump
    bodies = [e.body for e in service.audit.entries(limit=20)]
    assert not any("jana.dvorakova" in b for b in bodies)
    assert "jana.dvorakova" not in json.dumps(service.register())
    revealed = service.reveal_reporter(view.id, actor="sana.malik")
    assert revealed.reporter == "jana.dvorakova"
    last = service.audit.entries(limit=1)[0].entry
    assert last.action == "incident.reveal_reporter" and last.principal == "sana.malik"


def test_free_text_is_scrubbed_of_personal_data(service: IncidentService) -> None:
    view = service.report(
        reporter="jana.dvorakova",
        description="Sent eva.novakova@example.com and +420 602 123 456 to a friend.",
    )
    assert "eva.novakova@example.com" not in view.description
    assert "[EMAIL_ADDRESS]" in view.description and "[PHONE_NUMBER]" in view.description
    note = service.note(view.id, "Customer eva.novakova@example.com called.", actor="sana.malik")
    assert "@" not in note.message


def test_reporting_checks_its_input(service: IncidentService) -> None:
    with pytest.raises(InvalidInput):
        service.report(reporter="jana.dvorakova", description="   ")
    with pytest.raises(InvalidInput):
        service.report(reporter="jana dvorakova <x>", description="x")
    with pytest.raises(InvalidInput):
        service.report(reporter="jana.dvorakova", description="x", categories=["Not A Key"])
