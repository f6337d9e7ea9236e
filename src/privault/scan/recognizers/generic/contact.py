"""E-mail addresses and phone numbers written in international or trunk-prefixed form."""

from __future__ import annotations

import re

from privault.catalog.kinds import DEFAULT_PHONE_REGIONS, e164, match_key
from privault.errors import N_
from privault.scan.model import EMAIL, PHONE
from privault.scan.recognizers.base import (
    AT_SIGN,
    DIGITS,
    Pattern,
    Recognizer,
    context_words,
)

_DATE_LIKE = re.compile(r"^[0-9]{1,4}[./\-][0-9]{1,2}[./\-][0-9]{1,4}$")

# Regions whose national numbers start with a trunk prefix 0 (CZ and NANP have none).
_TRUNK_ZERO = frozenset({"GB", "PK", "DE", "AT", "FR", "IT", "NL", "PL", "SK", "IN", "AU"})

PHONE_CONTEXT = context_words(
    en=("phone", "telephone", "tel", "mobile", "cell", "call", "contact", "fax", "whatsapp"),
    cs=("telefon", "tel", "mobil", "mobilní", "číslo", "volejte", "kontakt", "zavolejte"),
    ur=("فون", "موبائل", "نمبر", "رابطہ", "ٹیلی فون", "کال"),
)


class EmailRecognizer(Recognizer):
    name = "email"
    entity = EMAIL
    kind = "email"
    triggers = frozenset({AT_SIGN})
    patterns = (
        Pattern(
            "email",
            r"(?<![\w.%+\-])[^\W_][\w.%+\-]{0,63}@"
            r"(?:[^\W_](?:[\w\-]{0,61}[^\W_])?\.)+[^\W\d_]{2,24}(?![\w\-])",
            0.9,
        ),
    )
    context = context_words(
        en=("email", "e-mail", "mail", "address"),
        cs=("e-mail", "email", "mail", "adresa"),
        ur=("ای میل", "پتہ"),
    )
    explanation = N_("e-mail address")

    def validate(self, text: str) -> str | None:
        local, _, domain = text.rpartition("@")
        if ".." in local or local.endswith(".") or not domain:
            return None
        return match_key("email", f"{local}@{domain.lower()}")


class PhoneRecognizer(Recognizer):
    """International numbers (``+44 20 7946 0958``) and national ones with a trunk prefix.

    Bare digit strings are left out: too many order and invoice numbers are valid
    phone numbers somewhere.  A phone context word brings them back.
    """

    name = "phone"
    entity = PHONE
    kind = "phone"
    triggers = frozenset({DIGITS})
    patterns = (
        Pattern("international", r"(?<![\w+])(?:\+|00)[1-9][0-9 \-.()/]{6,20}[0-9](?![\w])", 0.85),
        Pattern(
            "national",
            r"(?<![\w+\-/.])\(?0[0-9]{1,4}\)?[ \-.][0-9][0-9 \-.]{4,12}[0-9](?![\w\-/])",
            0.6,
        ),
        Pattern(
            "us", r"(?<![\w+\-/.])\(?[2-9][0-9]{2}\)?[ \-.][0-9]{3}[ \-.][0-9]{4}(?![\w\-/])", 0.55
        ),
        Pattern("bare", r"(?<![\w+\-/.])0[0-9]{9,11}(?![\w\-/])", 0.4),
    )
    context = PHONE_CONTEXT
    explanation = N_("phone number valid in its region")

    def __init__(self, regions: tuple[str, ...] = DEFAULT_PHONE_REGIONS) -> None:
        self.regions = regions

    def validate(self, text: str) -> str | None:
        if _DATE_LIKE.match(text):
            return None
        stripped = text.lstrip("( ")
        if stripped.startswith(("+", "00")):
            return e164(text, self.regions)
        # Written nationally: only regions whose plan fits the first digit are worth parsing.
        trunk = stripped.startswith("0")
        regions = tuple(r for r in self.regions if (r in _TRUNK_ZERO) == trunk)
        return e164(text, regions) if regions else None
