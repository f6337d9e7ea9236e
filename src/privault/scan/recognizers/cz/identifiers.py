"""Czech identifiers: rodné číslo (birth number), IČO and DIČ."""

from __future__ import annotations

from stdnum.cz import dic as stdnum_dic
from stdnum.cz import rc as stdnum_rc

from privault.errors import N_
from privault.scan.model import CZ_BIRTH_NUMBER, CZ_DIC, CZ_ICO
from privault.scan.recognizers.base import DIGITS, Pattern, Recognizer, context_words, only_digits

_BIRTH_CONTEXT = context_words(
    en=("birth number", "personal number", "national id", "id number"),
    cs=("rodné číslo", "rodného čísla", "rodným číslem", "rč", "r.č.", "r. č.", "rč.", "rodné č."),
    ur=("پیدائشی نمبر", "شناختی نمبر"),
)


class BirthNumberRecognizer(Recognizer):
    """``YYMMDD/SSSC``: a real date (women +50 to the month) and, since 1954, mod-11."""

    name = "cz_birth_number"
    entity = CZ_BIRTH_NUMBER
    kind = "national_id"
    country = "cz"
    triggers = frozenset({DIGITS})
    patterns = (
        Pattern("slashed", r"(?<![0-9/\-.])[0-9]{6}\s?/\s?[0-9]{3,4}(?![0-9]|/[0-9])", 0.6),
        Pattern("plain", r"(?<![0-9/\-.])[0-9]{10}(?![0-9]|[/\-][0-9])", 0.3),
    )
    validated_score = 0.85
    context = _BIRTH_CONTEXT
    explanation = N_("Czech birth number (valid date and mod-11 check)")

    def validate(self, text: str) -> str | None:
        digits = only_digits(text)
        if len(digits) == 9 and "/" not in text:
            return None  # pre-1954 numbers have no check digit: too weak without a slash
        if len(digits) == 10 and len(text.strip()) == 10 and not _plausible_plain(digits):
            return None
        return digits if stdnum_rc.is_valid(digits) else None


def _plausible_plain(digits: str) -> bool:
    """Unslashed ten-digit numbers are common; demand the stricter modern checksum."""
    return int(digits) % 11 == 0


def ico_is_valid(digits: str) -> bool:
    if len(digits) != 8 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:7], range(8, 1, -1), strict=True))
    check = (11 - total % 11) % 10
    return check == int(digits[7])


class IcoRecognizer(Recognizer):
    """Eight digits with a mod-11 check: common enough that it needs "IČO" nearby."""

    name = "cz_ico"
    entity = CZ_ICO
    country = "cz"
    needs_context = True
    triggers = frozenset({DIGITS})
    patterns = (Pattern("ico", r"(?<![0-9/\-.])[0-9]{8}(?![0-9]|[/\-.][0-9])", 0.3),)
    context_boost = 0.5
    context = context_words(
        en=("company id", "company number", "registration number", "reg. no.", "ico", "ičo"),
        cs=("ičo", "ič", "identifikační číslo", "ičo:", "ič:"),
        ur=("کمپنی نمبر", "رجسٹریشن نمبر"),
    )
    explanation = N_("Czech company identification number (IČO) next to a context word")

    def validate(self, text: str) -> str | None:
        return text if ico_is_valid(text) else None


class DicRecognizer(Recognizer):
    name = "cz_dic"
    entity = CZ_DIC
    country = "cz"
    triggers = frozenset({DIGITS})
    patterns = (Pattern("dic", r"(?<![A-Za-z0-9])CZ ?[0-9]{8,10}(?![0-9])", 0.5),)
    validated_score = 0.85
    context = context_words(
        en=("vat", "vat id", "tax id", "dic", "dič"),
        cs=("dič", "daňové identifikační číslo", "dič:"),
        ur=("ٹیکس نمبر",),
    )
    explanation = N_("Czech tax identification number (DIČ)")

    def validate(self, text: str) -> str | None:
        compact = text.replace(" ", "")
        return compact if stdnum_dic.is_valid(compact) else None
