"""Grant, withdraw and re-grant from two processes at once: history complete, state right."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable

from sqlalchemy import select

from privault.consent.filters import EVENTS, STATES
from privault.consent.schemas import Notice
from privault.consent.service import ConsentService
from privault.customers.service import CustomerRef
from privault.runtime import Vault

from .concurrency_worker import flip

ROUNDS = 25


def test_two_processes_flipping_one_consent(
    vault: Vault,
    consent: ConsentService,
    marketing_notice: Notice,
    make_customers: Callable[..., list[CustomerRef]],
) -> None:
    (customer,) = make_customers(1)
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    config = vault.settings.model_dump_json()
    workers = [
        context.Process(target=flip, args=(config, customer.id, ROUNDS, start, first))
        for first in ("grant", "withdraw")
    ]
    for worker in workers:
        worker.start()
    start.set()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0

    with vault.engine.connect() as connection:
        events = connection.execute(
            select(EVENTS.c.id, EVENTS.c.action, EVENTS.c.occurred_at).where(
                EVENTS.c.customer_id == customer.id
            )
        ).all()
        state = connection.execute(select(STATES).where(STATES.c.customer_id == customer.id)).one()
    assert len(events) == 2 * ROUNDS  # nothing lost, nothing duplicated
    latest = max(events, key=lambda e: (e.occurred_at, e.id))
    assert latest.id == max(e.id for e in events)  # times follow commit order
    assert (state.event_id, state.status) == (latest.id, latest.action)
    facts = consent.customer_consent_state(customer.id)
    assert facts.has_consent("marketing") == (latest.action == "grant")
    assert [e.event_id for e in consent.proof(customer.id).events] == sorted(e.id for e in events)
