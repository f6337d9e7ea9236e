"""Czech bank accounts (``19-2000145399/0800``) and national-format phone numbers."""

from __future__ import annotations

from stdnum.cz import bankaccount as stdnum_bankaccount

from privault.catalog.kinds import e164
from privault.errors import N_
from privault.scan.model import CZ_BANK_ACCOUNT, PHONE
from privault.scan.recognizers.base import DIGITS, Pattern, Recognizer, context_words
from privault.scan.recognizers.generic.contact import PHONE_CONTEXT


class CzBankAccountRecognizer(Recognizer):
    """Prefix and number pass the weighted mod-11 checks; the bank code is a real bank."""

    name = "cz_bank_account"
    entity = CZ_BANK_ACCOUNT
    country = "cz"
    triggers = frozenset({DIGITS})
    patterns = (
        Pattern(
            "account",
            r"(?<![0-9/\-.])(?:[0-9]{1,6}-)?[0-9]{2,10}\s?/\s?[0-9]{4}(?![0-9]|/[0-9])",
            0.5,
        ),
    )
    validated_score = 0.7
    context = context_words(
        en=("account", "bank account", "acct", "a/c"),
        cs=("účet", "účtu", "účtem", "č. ú.", "č.ú.", "bankovní spojení", "číslo účtu"),
        ur=("اکاؤنٹ", "بینک اکاؤنٹ", "کھاتہ"),
    )
    explanation = N_("Czech bank account number (mod-11 check, known bank code)")

    def validate(self, text: str) -> str | None:
        compact = "".join(text.split())
        number = compact.split("/", 1)[0].split("-")[-1]
        if len(number.lstrip("0")) < 2:
            return None
        return compact if stdnum_bankaccount.is_valid(compact) else None


class CzPhoneRecognizer(Recognizer):
    """Nine digits written the Czech way, ``602 123 456``, valid in the Czech plan."""

    name = "cz_phone"
    entity = PHONE
    kind = "phone"
    country = "cz"
    triggers = frozenset({DIGITS})
    patterns = (
        Pattern(
            "grouped",
            r"(?<![\w+\-/.])[2-79][0-9]{2}[ \u00a0][0-9]{3}[ \u00a0][0-9]{3}(?![\w\-/]|[ .][0-9])",
            0.6,
        ),
        Pattern("bare", r"(?<![\w+\-/.])[2-79][0-9]{8}(?![\w\-/]|[.][0-9])", 0.35),
    )
    context = PHONE_CONTEXT
    explanation = N_("Czech phone number in national format")

    def validate(self, text: str) -> str | None:
        return e164(text.replace("\u00a0", " "), ("CZ",))
