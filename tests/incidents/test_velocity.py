"""The velocity detector: one principal reading more distinct customers than its role's
baseline in a short window.  Counted inline, in the audit batch's transaction (so two
workers count into one table), raised off the request path, once per window."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from privault.audit import AuditEntry, AuditLog, Kind, Outcome
from privault.clock import FixedClock
from privault.customers.service import CustomerService
from privault.incidents.detectors import run_checks
from privault.incidents.velocity import SLICES, VelocityCounter, detect_velocity, slot_of
from privault.incidents.workflow import Source, Status
from privault.runtime import Vault
from privault.settings import Settings
from privault.store.db import session_scope
from privault.store.tables import VELOCITY

SUPPORT = "essential.service.operations.support"


def _customers(customers: CustomerService, count: int) -> list[str]:
    records = [customers.prepare({"email": f"c{i}@example.cz"}) for i in range(count)]
    with session_scope(customers.engine) as session:
        customers.insert_prepared(session, records, ["essential.service"])
    return [r.public_id for r in records]


def _with(vault: Vault, **overrides: object) -> Vault:
    settings = Settings.model_validate({**vault.settings.model_dump(), **overrides})
    return dataclasses.replace(vault, settings=settings)


def _seen(vault: Vault) -> int:
    with vault.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(VELOCITY)).scalar_one())


def test_300_reads_in_0_6_seconds_raise_exactly_one_incident(
    vault: Vault, clock: FixedClock
) -> None:
    ids = _customers(vault.customers, 300)
    # start 0.3 s before a slot boundary: the burst straddles two slots
    clock.set(clock.now() - timedelta(milliseconds=300))
    for customer in ids:
        result = vault.gate.read("jana.dvorakova", SUPPORT, customer, ["email"])
        assert result.record
        clock.advance(timedelta(milliseconds=2))
    assert _seen(vault) == 300  # counted with the audit batches, before any check
    assert vault.incidents.find() == []  # nothing raised on the request path
    raised = detect_velocity(vault.incidents)
    assert len(raised) == 1
    view, opened = raised[0]
    assert opened and view.source is Source.VELOCITY and view.status is Status.REPORTED
    assert view.estimated_customers == 300 and "jana.dvorakova" in view.description
    assert detect_velocity(vault.incidents) == []  # the same burst: nothing new
    assert [v.id for v in vault.incidents.find()] == [view.id]


def test_below_the_baseline_and_repeated_customers_raise_nothing(
    vault: Vault, clock: FixedClock
) -> None:
    ids = _customers(vault.customers, 150)
    for customer in ids + ids:  # 300 reads, 150 distinct customers
        vault.gate.read("jana.dvorakova", SUPPORT, customer, ["email"])
        clock.advance(timedelta(milliseconds=2))
    assert detect_velocity(vault.incidents) == []


def test_the_role_baseline_is_a_setting(vault: Vault, clock: FixedClock) -> None:
    ids = _customers(vault.customers, 300)
    for customer in ids:
        vault.gate.read("jana.dvorakova", SUPPORT, customer, ["email"])
        clock.advance(timedelta(milliseconds=2))
    roomy = _with(vault, incident_velocity_role_customers={"customer_service": 1000})
    assert detect_velocity(roomy.incidents) == []
    strict = _with(vault, incident_velocity_customers=100)
    assert len(detect_velocity(strict.incidents)) == 1


def _read_entry(clock: FixedClock, principal: str, customer: str) -> AuditEntry:
    return AuditEntry(
        at=clock.now(),
        kind=Kind.DECISION,
        action="read",
        principal=principal,
        outcome=Outcome.ALLOWED,
        purpose=SUPPORT,
        subjects=(customer,),
    )


def test_two_workers_count_into_one_table(vault: Vault, clock: FixedClock) -> None:
    """Two audit logs (two workers) over one store: their counts add up."""
    window = vault.settings.incident_velocity_window_seconds
    workers = [
        AuditLog(vault.engine, vault.keyring, clock, observer=VelocityCounter(window))
        for _ in range(2)
    ]
    for i in range(300):
        workers[i % 2].record_many([_read_entry(clock, "ayesha.khan", f"cus_{i:06d}")])
        clock.advance(timedelta(milliseconds=2))
    # a denied read and another kind of entry are not counted
    denied = dataclasses.replace(
        _read_entry(clock, "ayesha.khan", "cus_xxxxxxx"), outcome=Outcome.DENIED
    )
    workers[0].record_many([denied])
    assert _seen(vault) == 300
    raised = detect_velocity(vault.incidents)
    assert [v.estimated_customers for v, _ in raised] == [300]


def test_at_most_one_incident_per_principal_per_window(vault: Vault, clock: FixedClock) -> None:
    log = vault.audit
    window = vault.settings.incident_velocity_window_seconds

    def burst(prefix: str) -> None:
        log.record_many(
            [_read_entry(clock, "ayesha.khan", f"cus_{prefix}{i:05d}") for i in range(400)]
        )

    burst("a")
    clock.advance(timedelta(seconds=window / SLICES))
    burst("b")  # the same window: no second incident
    first = detect_velocity(vault.incidents)
    assert len(first) == 1 and first[0][1] is True
    clock.advance(timedelta(seconds=2 * window))
    burst("c")  # a later window: one more detection, added to the open incident
    again = detect_velocity(vault.incidents)
    assert [(v.id, opened) for v, opened in again] == [(first[0][0].id, False)]
    assert len(vault.incidents.find()) == 1
    assert [e.kind for e in vault.incidents.timeline(first[0][0].id)] == [
        "detected",
        "detected_again",
    ]


def test_incident_check_runs_it_and_prunes_old_rows(vault: Vault, clock: FixedClock) -> None:
    vault.audit.record_many([_read_entry(clock, "ayesha.khan", f"cus_{i:06d}") for i in range(300)])
    report = run_checks(vault.incidents)
    assert [r["source"] for r in report.as_json()["raised"]] == ["velocity"]
    clock.advance(timedelta(days=2))
    run_checks(vault.incidents)
    assert _seen(vault) == 0


@pytest.mark.parametrize("seconds", [60, 30])
def test_slots_cut_the_window(seconds: int, clock: FixedClock) -> None:
    now = clock.now()
    assert slot_of(now, seconds) - slot_of(now - timedelta(seconds=seconds), seconds) == SLICES
