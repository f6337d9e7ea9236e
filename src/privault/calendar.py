"""Legal deadlines, one definition each: the 72-hour incident clock and the deadlines in
months (rights requests), for the jurisdiction whose law applies.

Two rules, deliberately different (DESIGN.md §8):

- **Hours never roll.**  GDPR Art. 33(1) gives the controller 72 hours from awareness
  to notify the supervisory authority; Regulation 1182/71 Art. 3(4) moves the end of a
  period to the next working day only for periods *other than* hours.  So the incident
  deadline is the instant of awareness plus 72 elapsed hours -- counted in UTC, so a
  change to or from summer time in between neither adds nor takes an hour.
- **Months roll to a working day.**  Under Regulation 1182/71 a period in months that
  runs from an event leaves out the day of the event (Art. 3(1)) and ends with the
  expiry of the last hour of the day which, in the last month, has the same date as the
  day of the event -- or of that month's last day if there is no such date (Art.
  3(2)(c)).  If that last day is a public holiday, a Saturday or a Sunday, the period
  ends with the expiry of the last hour of the next working day (Art. 3(4)).  Days are
  the days of the jurisdiction's own time zone and public holidays (Art. 2).

This is a core: it imports no database or web code.  Time comes in as arguments,
never from the system clock.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import TYPE_CHECKING, Final
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from holidays import HolidayBase

INCIDENT_NOTIFICATION_HOURS: Final[int] = 72
"""GDPR Art. 33(1): hours from awareness to notify the supervisory authority."""

SATURDAY: Final[int] = 5
SUNDAY: Final[int] = 6

TIMEZONES: Final[dict[str, str]] = {
    # The jurisdiction profiles of DESIGN.md §8: the controller entity's country.
    "CZ": "Europe/Prague",
    "PK": "Asia/Karachi",
}


def _aware(value: datetime, what: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be a timezone-aware datetime")
    return value


def incident_deadline(aware_at: datetime, hours: int = INCIDENT_NOTIFICATION_HOURS) -> datetime:
    """When the authority must have been notified: ``hours`` elapsed hours after
    awareness (aware UTC), whatever the weekday, holiday or summer time."""
    return _aware(aware_at, "aware_at").astimezone(UTC) + timedelta(hours=hours)


def add_months(day: date, months: int) -> date:
    """The same date ``months`` later, or that month's last day if it has no such date
    (31 January + 1 month = 28 or 29 February)."""
    if months < 0:
        raise ValueError("months must be 0 or more")
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True, slots=True)
class WorkingCalendar:
    """A jurisdiction's working days: every day but Saturdays, Sundays and its public
    holidays (Regulation 1182/71 Art. 2), in its own time zone."""

    country: str
    timezone: ZoneInfo
    _holidays: HolidayBase = field(compare=False, repr=False)

    @classmethod
    def of(
        cls, country: str, timezone: str | None = None, *, subdivision: str | None = None
    ) -> WorkingCalendar:
        """The calendar of ``country`` (ISO 3166 alpha-2), in ``timezone`` (an IANA
        name; the jurisdiction profile's by default)."""
        import holidays  # ~0.1 s to import: only where a calendar is built

        zone = timezone or TIMEZONES.get(country)
        if zone is None:
            raise ValueError(f"no time zone known for {country!r}; name one")
        found = holidays.country_holidays(country, subdiv=subdivision)
        return cls(country, ZoneInfo(zone), found)

    def is_holiday(self, day: date) -> bool:
        return day in self._holidays

    def is_working_day(self, day: date) -> bool:
        return day.weekday() not in (SATURDAY, SUNDAY) and day not in self._holidays

    def working_day_from(self, day: date) -> date:
        """``day`` if it is a working day, else the first working day after it."""
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def local_day(self, when: datetime) -> date:
        """The jurisdiction's date at the instant ``when``."""
        return _aware(when, "when").astimezone(self.timezone).date()

    def end_of_day(self, day: date) -> datetime:
        """The instant ``day`` ends here (the next local midnight), as aware UTC."""
        midnight = datetime.combine(day + timedelta(days=1), time(), tzinfo=self.timezone)
        return midnight.astimezone(UTC)

    def add_working_days(self, day: date, days: int) -> date:
        """The ``days``-th working day after ``day`` (the day itself not counted)."""
        if days < 0:
            raise ValueError("days must be 0 or more")
        while days:
            day += timedelta(days=1)
            if self.is_working_day(day):
                days -= 1
        return self.working_day_from(day)

    def working_days_deadline(self, event_at: datetime, days: int) -> datetime:
        """The instant a period of ``days`` working days from the event at ``event_at``
        expires (the end of its last working day here), as aware UTC.  For internal
        review periods (a prevented attempt's review), never for the 72 hours."""
        return self.end_of_day(self.add_working_days(self.local_day(event_at), days))

    def last_day_in_months(self, event_day: date, months: int = 1) -> date:
        """The last day of a period of ``months`` running from an event on
        ``event_day``: the same date ``months`` later (or that month's last day),
        moved to the next working day if it is none."""
        return self.working_day_from(add_months(event_day, months))

    def months_deadline(self, event_at: datetime, months: int = 1) -> datetime:
        """The instant a period of ``months`` from the event at ``event_at`` expires
        (the end of its last day here), as aware UTC."""
        return self.end_of_day(self.last_day_in_months(self.local_day(event_at), months))


@cache
def working_calendar(country: str) -> WorkingCalendar:
    """The calendar of a jurisdiction profile (``CZ``, ``PK``), built once."""
    return WorkingCalendar.of(country)
