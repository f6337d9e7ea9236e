"""The deadlines of ``privault.calendar``: 72 elapsed hours that never roll, and a month
that ends on the same date (or the month's last day) rolled to a working day."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from privault.calendar import (
    INCIDENT_NOTIFICATION_HOURS,
    WorkingCalendar,
    add_months,
    incident_deadline,
    working_calendar,
)

PRAGUE = ZoneInfo("Europe/Prague")
ZONES = [UTC, PRAGUE, ZoneInfo("Asia/Karachi"), ZoneInfo("America/New_York")]
CZ = working_calendar("CZ")

instants = st.datetimes(
    min_value=datetime(1990, 1, 1),
    max_value=datetime(2090, 12, 31),
    timezones=st.sampled_from(ZONES),
    allow_imaginary=False,
)
days = st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31))


# -- the 72-hour clock -----------------------------------------------------------------


@given(instants)
def test_the_incident_deadline_is_72_elapsed_hours_after_awareness(aware_at: datetime) -> None:
    deadline = incident_deadline(aware_at)
    assert deadline.utcoffset() == timedelta(0)
    # Elapsed seconds, not wall-clock hours: summer time in between changes nothing.
    assert deadline - aware_at == timedelta(hours=72)  # aware: absolute, not float seconds
    assert INCIDENT_NOTIFICATION_HOURS == 72


@given(instants, st.integers(min_value=1, max_value=720))
def test_the_incident_deadline_never_rolls(aware_at: datetime, hours: int) -> None:
    """Whatever the weekday or holiday it falls on, it is where the hours end (the
    rule incidents had before the calendar module: UTC awareness + hours)."""
    utc = aware_at.astimezone(UTC)
    assert incident_deadline(aware_at, hours) == utc + timedelta(hours=hours)


def test_the_incident_deadline_may_end_on_a_holiday_weekend() -> None:
    # Aware on Christmas Eve (a Czech public holiday, a Thursday) at 10:00 in Prague:
    # due on Sunday 27 December at 10:00 local time, not on the next working day.
    aware = datetime(2026, 12, 24, 10, 0, tzinfo=PRAGUE)
    deadline = incident_deadline(aware)
    assert deadline.astimezone(PRAGUE) == datetime(2026, 12, 27, 10, 0, tzinfo=PRAGUE)
    assert not CZ.is_working_day(deadline.astimezone(PRAGUE).date())


def test_across_the_change_to_summer_time_the_clock_shows_one_hour_more() -> None:
    # 72 elapsed hours from Friday 27 March 2026 12:00 (CET) end at 13:00 CEST.
    aware = datetime(2026, 3, 27, 12, 0, tzinfo=PRAGUE)
    assert incident_deadline(aware).astimezone(PRAGUE).hour == 13


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        incident_deadline(datetime(2026, 11, 22, 9, 0))
    with pytest.raises(ValueError, match="timezone-aware"):
        CZ.months_deadline(datetime(2026, 11, 22, 9, 0))


# -- months ----------------------------------------------------------------------------


@given(days, st.integers(min_value=0, max_value=36))
def test_a_month_ends_on_the_same_date_or_the_months_last_day(day: date, months: int) -> None:
    end = add_months(day, months)
    assert (end.year * 12 + end.month) - (day.year * 12 + day.month) == months
    if day.day <= 28:
        assert end.day == day.day
    else:
        last = (end.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        assert end.day == min(day.day, last.day)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (date(2026, 1, 31), date(2026, 2, 28)),
        (date(2028, 1, 31), date(2028, 2, 29)),
        (date(2026, 3, 31), date(2026, 4, 30)),
        (date(2026, 1, 30), date(2026, 2, 28)),
        (date(2026, 12, 15), date(2027, 1, 15)),
        (date(2026, 2, 28), date(2026, 3, 28)),
    ],
)
def test_month_end_clamping(start: date, end: date) -> None:
    assert add_months(start, 1) == end


@given(days, st.integers(min_value=1, max_value=3))
def test_a_month_deadline_is_a_working_day_never_before_the_unrolled_date(
    day: date, months: int
) -> None:
    unrolled = add_months(day, months)
    last = CZ.last_day_in_months(day, months)
    assert last >= unrolled
    assert last.weekday() < 5 and not CZ.is_holiday(last)
    # ...and the first such day: every day it was rolled over is a weekend or holiday.
    skipped = [unrolled + timedelta(days=n) for n in range((last - unrolled).days)]
    assert all(not CZ.is_working_day(d) for d in skipped)


@pytest.mark.parametrize(
    ("received", "last"),
    [
        (date(2026, 1, 15), date(2026, 2, 16)),  # 15 February is a Sunday
        (date(2026, 1, 31), date(2026, 3, 2)),  # 28 February is a Saturday
        (date(2026, 11, 24), date(2026, 12, 28)),  # 24-26 December, then a weekend
        (date(2026, 3, 6), date(2026, 4, 7)),  # Easter Monday, 6 April 2026
        (date(2026, 4, 8), date(2026, 5, 8) + timedelta(days=3)),  # 8 May (Fri) + weekend
        (date(2026, 6, 10), date(2026, 7, 10)),  # a plain Friday stays
    ],
)
def test_czech_month_deadlines(received: date, last: date) -> None:
    assert CZ.last_day_in_months(received) == last


@given(instants)
def test_a_month_deadline_expires_at_the_end_of_its_last_local_day(event_at: datetime) -> None:
    deadline = CZ.months_deadline(event_at)
    assert deadline.utcoffset() == timedelta(0)
    local = deadline.astimezone(PRAGUE)
    assert local.time() == time(0, 0)  # the next local midnight
    last = (local - timedelta(microseconds=1)).date()
    assert last == CZ.last_day_in_months(event_at.astimezone(PRAGUE).date())
    assert deadline > event_at


def test_the_event_day_is_the_jurisdictions_date() -> None:
    # 23:30 UTC on 31 January is 00:30 on 1 February in Prague: the month runs from
    # 1 February and ends on 1 March, a Sunday, so at the end of Monday 2 March.
    event = datetime(2026, 1, 31, 23, 30, tzinfo=UTC)
    assert CZ.months_deadline(event) == datetime(2026, 3, 3, 0, 0, tzinfo=PRAGUE)


def test_czech_public_holidays_are_not_working_days() -> None:
    for holiday in [
        date(2026, 1, 1),
        date(2026, 4, 3),  # Good Friday
        date(2026, 5, 8),
        date(2026, 7, 6),
        date(2026, 9, 28),
        date(2026, 10, 28),
        date(2026, 11, 17),
        date(2026, 12, 24),
    ]:
        assert holiday.weekday() < 5 and not CZ.is_working_day(holiday), holiday
    assert CZ.is_working_day(date(2026, 11, 18))


def test_each_jurisdiction_has_its_own_calendar() -> None:
    pakistan = working_calendar("PK")
    assert pakistan.timezone == ZoneInfo("Asia/Karachi")
    assert pakistan.is_holiday(date(2026, 3, 23))  # Pakistan Day
    assert CZ.is_working_day(date(2026, 3, 23))
    assert working_calendar("CZ") is CZ  # built once
    assert WorkingCalendar.of("CZ", "Europe/Prague") == CZ
    with pytest.raises(ValueError, match="time zone"):
        WorkingCalendar.of("FR")
