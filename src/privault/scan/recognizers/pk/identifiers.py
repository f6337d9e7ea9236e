"""Pakistan: CNIC numbers and mobile numbers, in Latin or Urdu (Eastern Arabic) digits."""

from __future__ import annotations

import phonenumbers
from stdnum.pk import cnic as stdnum_cnic

from privault.catalog.kinds import ascii_digits
from privault.errors import N_
from privault.scan.model import PHONE, PK_CNIC
from privault.scan.recognizers.base import (
    ANY_DIGIT,
    DIGITS,
    Pattern,
    Recognizer,
    context_words,
)
from privault.scan.recognizers.generic.contact import PHONE_CONTEXT

_D = f"[{ANY_DIGIT}]"


class CnicRecognizer(Recognizer):
    """``#####-#######-#`` has no check digit, so it needs context or our own customer."""

    name = "pk_cnic"
    entity = PK_CNIC
    kind = "national_id"
    country = "pk"
    needs_context = True
    triggers = frozenset({DIGITS})
    patterns = (
        Pattern(
            "dashed", rf"(?<![{ANY_DIGIT}\-]){_D}{{5}}-{_D}{{7}}-{_D}(?![{ANY_DIGIT}]|-{_D})", 0.4
        ),
        Pattern("plain", rf"(?<![{ANY_DIGIT}\-]){_D}{{13}}(?![{ANY_DIGIT}])", 0.2),
    )
    context_boost = 0.5
    context = context_words(
        en=("cnic", "nic", "nicop", "national identity card", "identity card", "id card", "nadra"),
        cs=("cnic", "občanský průkaz", "průkaz totožnosti"),
        ur=("شناختی کارڈ", "قومی شناختی کارڈ", "شناختی کارڈ نمبر", "نادرا", "شناختی"),
    )
    explanation = N_("Pakistani CNIC number next to a context word")

    def validate(self, text: str) -> str | None:
        digits = ascii_digits(text).replace("-", "")
        return digits if stdnum_cnic.is_valid(digits) else None


class PkMobileRecognizer(Recognizer):
    """``0300-1234567``, ``+92 300 1234567`` and the same in Urdu digits."""

    name = "pk_mobile"
    entity = PHONE
    kind = "phone"
    country = "pk"
    triggers = frozenset({DIGITS})
    patterns = (
        Pattern(
            "mobile",
            rf"(?<![{ANY_DIGIT}\w+\-])(?:(?:\+|00)92[ \-]?|[0۰٠])3{_D}{{2}}[ \-]?{_D}{{7}}"
            rf"(?![{ANY_DIGIT}]|-{_D})",
            0.75,
        ),
        Pattern(
            "mobile_eastern",
            rf"(?<![{ANY_DIGIT}\w+\-])(?:\+?[۹٩][۲٢][ \-]?|[۰٠])[۳٣]{_D}{{2}}[ \-]?{_D}{{7}}"
            rf"(?![{ANY_DIGIT}])",
            0.75,
        ),
    )
    validated_score = 0.85
    context = PHONE_CONTEXT
    explanation = N_("Pakistani mobile number")

    def validate(self, text: str) -> str | None:
        digits = ascii_digits(text).replace(" ", "").replace("-", "")
        if digits.startswith("92"):
            digits = "+" + digits
        try:
            number = phonenumbers.parse(digits, "PK")
        except phonenumbers.NumberParseException:
            return None
        if not phonenumbers.is_valid_number(number):
            return None
        if phonenumbers.number_type(number) != phonenumbers.PhoneNumberType.MOBILE:
            return None
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
