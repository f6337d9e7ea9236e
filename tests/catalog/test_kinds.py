"""Value kinds: validation, canonical forms, match keys -- and errors never echo values."""

from __future__ import annotations

import re
import unicodedata

import phonenumbers
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from privault.catalog.kinds import KINDS, _fast_international, canonical, e164, match_key
from privault.errors import InvalidInput


@pytest.mark.parametrize(
    ("kind", "raw", "expected"),
    [
        ("email", "  Jan.Novak@Example.COM ", "Jan.Novak@example.com"),
        ("phone", "602 123 456", "+420602123456"),
        ("phone", "+44 7911 123456", "+447911123456"),
        ("phone", "0300 1234567", "+923001234567"),
        ("phone", "۰۳۰۰۱۲۳۴۵۶۷", "+923001234567"),
        ("phone", "00420 602 123 456", "+420602123456"),
        ("iban", "cz65 0800 0000 1920 0014 5399", "CZ6508000000192000145399"),
        ("date", "1985-04-23", "1985-04-23"),
        ("date", "23. 4. 1985", "1985-04-23"),
        ("name", "  Zainab   Hussain ", "Zainab Hussain"),
        ("name", "زینب", "زینب"),
        ("customer_number", "c-0000042", "C-0000042"),
        ("country", "cz", "CZ"),
    ],
)
def test_valid_values_become_canonical(kind: str, raw: str, expected: str) -> None:
    assert canonical(kind, raw) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "raw"),
    [
        ("email", "not-an-address"),
        ("email", "jan@@example.com"),
        ("phone", "12"),
        ("iban", "CZ65 0800 0000 1920 0014 5398"),
        ("date", "1985-02-30"),
        ("date", "yesterday"),
        ("name", "R2D2"),
        ("name", "   "),
        ("country", "Czechia"),
    ],
)
def test_invalid_values_are_rejected(kind: str, raw: str) -> None:
    with pytest.raises(InvalidInput):
        canonical(kind, raw)  # type: ignore[arg-type]


@given(kind=st.sampled_from(KINDS), raw=st.text(min_size=4, max_size=60))
@settings(max_examples=300, deadline=None)
def test_an_error_message_never_contains_the_value(kind: str, raw: str) -> None:
    try:
        canonical(kind, raw)  # type: ignore[arg-type]
    except InvalidInput as exc:
        stripped = raw.strip()
        if len(stripped) >= 4:
            assert stripped not in str(exc)


def test_match_keys_fold_case_and_spacing() -> None:
    assert match_key("email", "Jan.Novak@example.com") == "jan.novak@example.com"
    assert match_key("name", "Jan  NOVÁK") == "jan novák"
    assert match_key("phone", "+420602123456") == "+420602123456"


local_parts = st.from_regex(r"[A-Za-z0-9._+\-!#$%&'*/=?^`{|}~]{1,70}", fullmatch=True)
domains = st.from_regex(r"([A-Za-z0-9\-]{1,20}\.){1,3}[A-Za-z]{2,8}", fullmatch=True)


@given(local=local_parts, domain=domains)
@example(local="WWW", domain="0.aa")  # RFC 2142 role names are lower-cased by the library
@settings(max_examples=1000, deadline=None)
def test_fast_email_path_agrees_with_email_validator(local: str, domain: str) -> None:
    """The regex fast path never accepts what email-validator rejects, nor normalises
    differently."""
    from email_validator import EmailNotValidError, validate_email

    address = f"{local}@{domain}"
    try:
        expected: str | None = validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError:
        expected = None
    try:
        ours: str | None = canonical("email", address)
    except InvalidInput:
        ours = None
    assert ours == expected


def _library_e164(text: str) -> str | None:
    """The reference: what ``phonenumbers`` alone makes of an international number."""
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _examples() -> list[str]:
    """Example numbers (E.164) of every region and number type, non-geographic ones too."""
    numbers = [
        phonenumbers.example_number_for_type(region, kind)
        for region in phonenumbers.SUPPORTED_REGIONS
        for kind in phonenumbers.PhoneNumberType.values()
    ] + [
        phonenumbers.example_number_for_non_geo_entity(code)
        for code in phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS
    ]
    e164_form = phonenumbers.PhoneNumberFormat.E164
    return sorted({phonenumbers.format_number(n, e164_form) for n in numbers if n is not None})


EXAMPLES = _examples()


def test_fast_phone_path_agrees_with_phonenumbers_on_every_example_number() -> None:
    accepted = 0
    for e164_form in EXAMPLES:
        code = str(phonenumbers.parse(e164_form).country_code)
        spaced = f"+{code} {e164_form[1 + len(code) :]}"
        for text in (e164_form, spaced, spaced.replace(" ", "-")):
            fast = _fast_international(text)
            assert fast is None or fast == _library_e164(text), text
            accepted += fast is not None
            assert e164(text, ()) == _library_e164(text)
    assert accepted > 0.8 * 3 * len(EXAMPLES)  # the fast path really is the common path


@given(
    example=st.sampled_from(EXAMPLES),
    tail=st.text("0123456789", min_size=0, max_size=6),
    cut=st.integers(0, 6),
    spaces=st.lists(st.integers(2, 16), max_size=4),
)
@settings(max_examples=3000, deadline=None)
def test_fast_phone_path_never_accepts_what_phonenumbers_rejects(
    example: str, tail: str, cut: int, spaces: list[int]
) -> None:
    """Numbers near valid ones (digits changed, added or cut, spaces moved): the fast
    path either agrees with the library or leaves the number to it."""
    digits = example[1 : len(example) - cut] + tail
    for position in sorted(set(spaces), reverse=True):
        if position < len(digits):
            digits = digits[:position] + " " + digits[position:]
    text = "+" + digits
    fast = _fast_international(text)
    assert fast is None or fast == _library_e164(text)
    assert e164(text, ()) == _library_e164(text)


@given(text=st.text(max_size=60) | st.from_regex(r"[ -~]{0,40}", fullmatch=True))
@settings(max_examples=500, deadline=None)
def test_match_key_ascii_shortcut_is_nfkc_casefold(text: str) -> None:
    """ASCII text skips NFKC and casefold (identity and lower()); the result is the same."""
    expected = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text).casefold()).strip()
    assert match_key("email", text) == match_key("name", text) == expected
    assert match_key("text", text) == expected
