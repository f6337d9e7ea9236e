"""Value kinds: validation, canonical forms, match keys -- and errors never echo values."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from privault.catalog.kinds import KINDS, canonical, match_key
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
