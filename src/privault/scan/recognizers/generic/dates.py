"""Dates of birth: a date alone is not personal data, a date next to "born" is."""

from __future__ import annotations

import re
from datetime import date

from privault.errors import N_
from privault.scan.model import DOB
from privault.scan.recognizers.base import DIGITS, Pattern, Recognizer, context_words

_DMY = re.compile(r"^([0-9]{1,2})\s?[./\-]\s?([0-9]{1,2})\s?[./\-]\s?([0-9]{4})$")
_ISO = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$")


class DateOfBirthRecognizer(Recognizer):
    name = "date_of_birth"
    entity = DOB
    triggers = frozenset({DIGITS})
    needs_context = True
    patterns = (
        Pattern(
            "dmy",
            r"(?<![0-9./\-])[0-9]{1,2}\s?[./\-]\s?[0-9]{1,2}\s?[./\-]\s?[0-9]{4}(?![0-9]|[./\-][0-9])",
            0.3,
        ),
        Pattern("iso", r"(?<![0-9./\-])[0-9]{4}-[0-9]{2}-[0-9]{2}(?![0-9]|[./\-][0-9])", 0.3),
    )
    context_boost = 0.5
    context = context_words(
        en=("born", "birth", "date of birth", "dob", "d.o.b", "birthday", "birthdate", "b."),
        cs=("narozen", "narozena", "narození", "datum narození", "nar.", "narozeniny", "dat. nar."),
        ur=("تاریخ پیدائش", "پیدائش", "پیدا", "یوم پیدائش"),
    )
    explanation = N_("date next to a birth-date context word")

    def validate(self, text: str) -> str | None:
        compact = text.replace(" ", "")
        iso = _ISO.match(compact)
        dmy = _DMY.match(compact)
        try:
            if iso:
                parsed = date(int(iso[1]), int(iso[2]), int(iso[3]))
            elif dmy:
                parsed = date(int(dmy[3]), int(dmy[2]), int(dmy[1]))
            else:
                return None
        except ValueError:
            return None
        return parsed.isoformat() if 1900 <= parsed.year <= date.today().year else None
