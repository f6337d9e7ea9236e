"""The 72-hour clock with an injected clock: time left, warnings at the thresholds
(each once), the overdue list, and a late notification that needs a reason."""

from __future__ import annotations

from datetime import timedelta

import pytest

from privault.clock import FixedClock
from privault.errors import InvalidInput
from privault.incidents.notify import OVERDUE, WARNING
from privault.incidents.workflow import Risk, Status
from tests.incidents.conftest import Factory


def test_warnings_fire_at_each_threshold_once(make_service: Factory, clock: FixedClock) -> None:
    service = make_service(notifier=False, incident_warning_hours=(24, 12, 4))
    view = service.report(reporter="jana.dvorakova", description="Laptop lost on a train.")
    quiet = service.report(reporter="tomas.kral", description="Nothing to notify.")
    service.transition(quiet.id, Status.TRIAGED, actor="sana.malik")
    service.assess(quiet.id, actor="sana.malik", risk=Risk.NONE)
    assert service.get(view.id).clock.seconds_left == 72 * 3600
    assert not service.get(quiet.id).clock.running

    def fired() -> list[tuple[str, int]]:
        return [(event, hours) for _, event, hours in service.check_deadlines()]

    assert fired() == []
    clock.advance(timedelta(hours=47, minutes=59))
    assert fired() == []
    clock.advance(timedelta(minutes=1))  # 24 hours left
    assert fired() == [(WARNING, 24)]
    assert fired() == []  # once per threshold
    clock.advance(timedelta(hours=12))  # 12 left
    assert fired() == [(WARNING, 12)]
    clock.advance(timedelta(hours=9))  # 3 left: past the 4-hour threshold
    assert fired() == [(WARNING, 4)]
    assert service.overdue() == []
    clock.advance(timedelta(hours=3, seconds=1))
    assert fired() == [(OVERDUE, 0)]
    assert fired() == []
    assert [v.id for v in service.overdue()] == [view.id]
    kinds = [e.kind for e in service.timeline(view.id)]
    assert kinds.count("deadline_warning") == 3 and kinds.count("deadline_overdue") == 1


def test_a_late_check_sends_only_the_most_urgent_warning(
    make_service: Factory, clock: FixedClock
) -> None:
    service = make_service(notifier=False, incident_warning_hours=(24, 12, 4))
    service.report(reporter="jana.dvorakova", description="USB stick missing.")
    clock.advance(timedelta(hours=70))
    assert [(e, h) for _, e, h in service.check_deadlines()] == [(WARNING, 4)]


def test_awareness_from_when_it_was_noticed(service_clock: tuple[Factory, FixedClock]) -> None:
    make, clock = service_clock
    service = make(notifier=False)
    view = service.report(
        reporter="jana.dvorakova",
        description="Seen yesterday.",
        noticed_at=clock.now() - timedelta(hours=30),
    )
    assert view.clock.seconds_left == 42 * 3600
    with pytest.raises(InvalidInput):
        service.report(
            reporter="jana.dvorakova", description="x", noticed_at=clock.now() + timedelta(days=1)
        )


def test_late_notification_requires_a_reason(make_service: Factory, clock: FixedClock) -> None:
    service = make_service(notifier=False)
    view = service.report(reporter="jana.dvorakova", description="Export sent by mistake.")
    service.transition(view.id, Status.TRIAGED, actor="sana.malik")
    service.assess(view.id, actor="sana.malik", risk=Risk.HIGH)
    clock.advance(timedelta(hours=80))
    assert [v.id for v in service.overdue()] == [view.id]
    with pytest.raises(InvalidInput, match="late"):
        service.transition(view.id, Status.NOTIFIED, actor="sana.malik")
    notified = service.transition(
        view.id,
        Status.NOTIFIED,
        actor="sana.malik",
        reason="The scope was only known after forensic analysis.",
    )
    assert notified.late_reason == "The scope was only known after forensic analysis."
    assert service.overdue() == []
    with pytest.raises(InvalidInput):  # high risk: customers first, or a reason
        service.transition(view.id, Status.CLOSED, actor="sana.malik")
    service.transition(
        view.id, Status.CLOSED, actor="sana.malik", reason="Data was encrypted (Art. 34(3)(a))."
    )
    assert service.register()[0]["late_reason"] is not None


def test_in_time_notification_needs_no_reason(make_service: Factory, clock: FixedClock) -> None:
    service = make_service(notifier=False)
    view = service.report(reporter="jana.dvorakova", description="Wrong recipient.")
    service.transition(view.id, Status.TRIAGED, actor="sana.malik")
    service.assess(view.id, actor="sana.malik", risk=Risk.RISK)
    clock.advance(timedelta(hours=71))
    assert service.transition(view.id, Status.NOTIFIED, actor="sana.malik").late_reason is None


@pytest.fixture
def service_clock(make_service: Factory, clock: FixedClock) -> tuple[Factory, FixedClock]:
    return make_service, clock
