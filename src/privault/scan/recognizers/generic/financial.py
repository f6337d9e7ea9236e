"""IBANs (mod-97) and payment cards (Luhn plus the issuers' real number ranges)."""

from __future__ import annotations

from stdnum import iban as stdnum_iban
from stdnum import luhn

from privault.errors import N_
from privault.scan.model import CARD, IBAN
from privault.scan.recognizers.base import DIGITS, Pattern, Recognizer, context_words, only_digits


class IbanRecognizer(Recognizer):
    name = "iban"
    entity = IBAN
    kind = "iban"
    triggers = frozenset({DIGITS})
    patterns = (
        Pattern(
            "iban",
            r"(?<![A-Za-z0-9])[A-Z]{2}[0-9]{2}(?:[ \-]?[A-Z0-9]{4}){2,7}"
            r"(?:[ \-]?[A-Z0-9]{1,3})?(?![A-Za-z0-9])",
            0.5,
        ),
    )
    validated_score = 0.95
    context = context_words(
        en=("iban", "account", "bank", "transfer"),
        cs=("iban", "účet", "účtu", "banka", "převod"),
        ur=("آئی بین", "اکاؤنٹ", "بینک", "کھاتہ"),
    )
    explanation = N_("IBAN with valid check digits (mod-97)")

    def validate(self, text: str) -> str | None:
        compact = text.replace(" ", "").replace("-", "")
        if not stdnum_iban.is_valid(compact):
            return None
        return str(stdnum_iban.compact(compact))


# (prefix ranges as (low, high) on the first digits, allowed lengths)
_BRANDS: tuple[tuple[int, int, int, frozenset[int]], ...] = (
    # digits of prefix, low, high, lengths
    (1, 4, 4, frozenset({13, 16, 19})),  # Visa
    (2, 51, 55, frozenset({16})),  # Mastercard
    (4, 2221, 2720, frozenset({16})),  # Mastercard 2-series
    (2, 34, 34, frozenset({15})),  # American Express
    (2, 37, 37, frozenset({15})),
    (4, 6011, 6011, frozenset({16, 17, 18, 19})),  # Discover
    (3, 644, 649, frozenset({16, 17, 18, 19})),
    (2, 65, 65, frozenset({16, 17, 18, 19})),
    (4, 3528, 3589, frozenset({16, 17, 18, 19})),  # JCB
    (3, 300, 305, frozenset({14, 15, 16, 17, 18, 19})),  # Diners Club
    (2, 36, 36, frozenset({14, 15, 16, 17, 18, 19})),
    (2, 38, 39, frozenset({16, 17, 18, 19})),
    (2, 62, 62, frozenset({16, 17, 18, 19})),  # UnionPay
    (2, 50, 50, frozenset({12, 13, 14, 15, 16, 17, 18, 19})),  # Maestro
    (2, 56, 58, frozenset({12, 13, 14, 15, 16, 17, 18, 19})),
    (2, 67, 67, frozenset({12, 13, 14, 15, 16, 17, 18, 19})),
    (4, 2200, 2204, frozenset({16, 17, 18, 19})),  # Mir
)


def card_brand_ok(digits: str) -> bool:
    return any(
        low <= int(digits[:width]) <= high and len(digits) in lengths
        for width, low, high, lengths in _BRANDS
    )


class CardRecognizer(Recognizer):
    name = "payment_card"
    entity = CARD
    triggers = frozenset({DIGITS})
    patterns = (
        Pattern(
            "grouped",
            r"(?<![0-9])[0-9]{4}(?:[ \-][0-9]{4}){2}[ \-][0-9]{1,4}(?:[ \-][0-9]{3})?(?![0-9])",
            0.5,
        ),
        Pattern("amex_diners", r"(?<![0-9])3[0-9]{3}[ \-][0-9]{6}[ \-][0-9]{4,5}(?![0-9])", 0.5),
        Pattern("bare", r"(?<![0-9A-Za-z])[0-9]{13,19}(?![0-9A-Za-z])", 0.4),
    )
    validated_score = 0.9
    context = context_words(
        en=("card", "credit", "debit", "visa", "mastercard", "amex", "cc", "payment"),
        cs=("karta", "karty", "kartou", "platební", "kreditní"),
        ur=("کارڈ", "کریڈٹ", "ڈیبٹ", "ادائیگی"),
    )
    explanation = N_("payment card number (Luhn check and issuer range)")

    def validate(self, text: str) -> str | None:
        digits = only_digits(text)
        if not 12 <= len(digits) <= 19 or not luhn.is_valid(digits) or not card_brand_ok(digits):
            return None
        return digits
