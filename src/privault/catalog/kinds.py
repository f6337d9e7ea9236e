"""Value kinds: how a field's values are validated, stored and matched.

Each kind turns raw input into the canonical stored form (``canonical``) or raises
``InvalidInput`` -- whose message never repeats the value, because the value is
customer data.  ``match_key`` is the normalised form that blind indexes and the
egress scanner's exact match hash: e-mails case-folded, phones in E.164, IBANs
compact, names case-folded with single spaces.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from datetime import date
from typing import Final, Literal

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from email_validator.rfc_constants import CASE_INSENSITIVE_MAILBOX_NAMES
from stdnum import iban as stdnum_iban
from stdnum.exceptions import ValidationError as StdnumError

from privault.errors import N_, InvalidInput
from privault.text import CONTROL

KindName = Literal[
    "email", "phone", "iban", "date", "name", "text", "customer_number", "national_id", "country"
]
KINDS: Final[tuple[KindName, ...]] = (
    "email",
    "phone",
    "iban",
    "date",
    "name",
    "text",
    "customer_number",
    "national_id",
    "country",
)
DEFAULT_PHONE_REGIONS: Final[tuple[str, ...]] = ("CZ", "PK", "GB", "US", "DE")
MAX_VALUE_LENGTH: Final[int] = 1000

_SPACES = re.compile(r"\s+")
_ASCII_DIGIT = re.compile("[0-9]")
_CUSTOMER_NUMBER = re.compile(r"^[A-Z0-9][A-Z0-9\-/]{2,39}$")
_NATIONAL_ID = re.compile(r"^[A-Z0-9]{4,20}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_CZECH_DATE = re.compile(r"^(\d{1,2})\.\s?(\d{1,2})\.\s?(\d{4})$")


def _clean_text(raw: str) -> str:
    text = unicodedata.normalize("NFC", raw)
    text = _SPACES.sub(" ", text).strip()
    if not text:
        raise InvalidInput(N_("The value is empty."))
    if len(text) > MAX_VALUE_LENGTH:
        raise InvalidInput(
            N_("The value is longer than %(limit)s characters."), limit=MAX_VALUE_LENGTH
        )
    if CONTROL.search(text):  # tabs and line breaks were spaces by now
        raise InvalidInput(N_("The value contains control characters."))
    return text


# Plain ASCII addresses -- the overwhelming majority -- are checked by this pattern alone;
# everything else (quoted or Unicode local parts, IDN domains, special-use TLDs) goes to
# email-validator.  The pattern accepts only what email-validator accepts, and the
# result is normalised the same way (domain lower-cased); tests/catalog pin that.
_FAST_EMAIL = re.compile(
    r"^(?P<local>[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*)"
    r"@(?P<domain>(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})$"
)
_RESERVED_LABEL = re.compile(r"(?:^|\.)[^.]{2}--")  # a label whose 3rd-4th characters are "--"
_SPECIAL_USE_TLDS: Final[frozenset[str]] = frozenset(
    {"arpa", "invalid", "local", "localhost", "onion", "test", "internal", "alt", "home", "lan"}
)


def canonical_email(raw: str) -> str:
    text = _clean_text(raw)
    fast = _FAST_EMAIL.match(text)
    if fast and len(text) <= 254 and len(fast["local"]) <= 64:
        domain = fast["domain"].lower()
        # Labels with "--" in positions 3-4 are reserved (IDNA); let the library decide.
        if domain.rpartition(".")[2] not in _SPECIAL_USE_TLDS and not _RESERVED_LABEL.search(
            domain
        ):
            local = fast["local"]
            # RFC 2142 role names (www, postmaster...) are case-insensitive; the library
            # lower-cases them, and the fast path must agree with it.
            if local.lower() in CASE_INSENSITIVE_MAILBOX_NAMES:
                local = local.lower()
            return f"{local}@{domain}"
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        raise InvalidInput(N_("Not a valid e-mail address.")) from None
    return str(result.normalized)


def ascii_digits(text: str) -> str:
    """Arabic-Indic and Urdu digits written as ASCII digits (``۰۳۰۰`` -> ``0300``)."""
    return text.translate(_EASTERN_DIGITS)


def e164(text: str, regions: Sequence[str] = DEFAULT_PHONE_REGIONS) -> str | None:
    """The number in E.164 (``+420602123456``), or None if it is not a valid number.

    Numbers without ``+``/``00`` are tried in each region in turn.  The store's blind
    indexes and the scanner's exact match both normalise through here, so a number found
    in a file hashes exactly as the stored one does.
    """
    digits = ascii_digits(text).strip()
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    fast = _fast_international(digits)
    if fast is not None:
        return fast
    candidates: Sequence[str | None] = (None,) if digits.startswith("+") else regions
    for region in candidates:
        try:
            number = phonenumbers.parse(digits, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None


# -- the fast path for international numbers -------------------------------------------
#
# ``phonenumbers.parse`` + ``is_valid_number`` cost ~80 us a number in pure Python, the
# largest part of preparing a record for import.  Most numbers arrive written as
# "+<calling code> <digits>" with spaces or hyphens, and for exactly those the library's
# answer reduces to: split off the calling code as it does, then match the national
# number against the same metadata patterns, precompiled here.  The fast path only ever
# *accepts*: other punctuation, leading zeros, a national prefix that parsing might strip,
# and every rejection go to the library, which stays the reference.  tests/catalog pins
# the agreement on random and example numbers of every calling code.

_FAST_PHONE = re.compile(r"\+[0-9](?:[ \-]?[0-9]){2,19}")
_MAX_CALLING_CODE_DIGITS: Final[int] = 3  # phonenumbers' _MAX_LENGTH_COUNTRY_CODE
_MAX_NSN_DIGITS: Final[int] = 17  # phonenumbers' _MAX_LENGTH_FOR_NSN
_TYPES: Final[tuple[str, ...]] = (
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "fixed_line",
)
# A number description: the lengths it allows (None: any) and its national number pattern.
_Desc = tuple[frozenset[int] | None, re.Pattern[str]]


def _desc(desc: phonenumbers.PhoneNumberDesc | None) -> _Desc | None:
    if desc is None or not desc.national_number_pattern:
        return None  # matches nothing, as in phonenumbers
    lengths = frozenset(desc.possible_length) if desc.possible_length else None
    return lengths, re.compile(desc.national_number_pattern)


def _matches(desc: _Desc, nsn: str) -> bool:
    lengths, pattern = desc
    return (lengths is None or len(nsn) in lengths) and pattern.fullmatch(nsn) is not None


class _Region:
    """One region's metadata, precompiled for ``phonenumbers._number_type_helper``."""

    __slots__ = ("general", "leading_digits", "national_prefix", "types_by_length")

    def __init__(self, metadata: phonenumbers.PhoneMetadata) -> None:
        self.general = _desc(metadata.general_desc)
        # With identical fixed-line and mobile patterns the library never tries mobile.
        names = _TYPES if metadata.same_mobile_and_fixed_line_pattern else (*_TYPES, "mobile")
        types = [d for d in (_desc(getattr(metadata, name)) for name in names) if d is not None]
        # "Some type matches" as one alternation per length: one regex call, not ten.
        # Lengths with the same types share one compiled alternation.
        self.types_by_length: dict[int, re.Pattern[str]] = {}
        compiled: dict[str, re.Pattern[str]] = {}
        for length in range(2, _MAX_NSN_DIGITS + 1):
            patterns = [p.pattern for lengths, p in types if lengths is None or length in lengths]
            if patterns:
                alternatives = "|".join(f"(?:{p})" for p in patterns)
                if alternatives not in compiled:
                    compiled[alternatives] = re.compile(alternatives)
                self.types_by_length[length] = compiled[alternatives]
        leading, prefix = metadata.leading_digits, metadata.national_prefix_for_parsing
        self.leading_digits = re.compile(leading) if leading else None
        self.national_prefix = re.compile(prefix) if prefix else None

    def has_type(self, nsn: str) -> bool:
        """``_number_type_helper(nsn, metadata) != UNKNOWN``."""
        if self.general is None or not _matches(self.general, nsn):
            return False
        types = self.types_by_length.get(len(nsn))
        return types is not None and types.fullmatch(nsn) is not None


# calling code -> its regions' metadata in the library's order (None: no metadata)
_CALLING_CODES: dict[int, tuple[_Region | None, ...]] = {}


def _regions(code: int) -> tuple[_Region | None, ...]:
    regions = _CALLING_CODES.get(code)
    if regions is None:
        found = (
            phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(code, region)
            for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE[code]
        )
        regions = _CALLING_CODES[code] = tuple(None if m is None else _Region(m) for m in found)
    return regions


def _fast_international(text: str) -> str | None:
    """E.164 for ``+CC NNN NNN...`` that ``phonenumbers`` surely accepts, else None,
    which means "ask the library", not "invalid"."""
    if not _FAST_PHONE.fullmatch(text):
        return None
    digits = text[1:].replace(" ", "").replace("-", "")
    if digits[0] == "0":
        return None
    for size in range(1, _MAX_CALLING_CODE_DIGITS + 1):  # parse's _extract_country_code
        code = int(digits[:size])
        if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            break
    else:
        return None
    nsn = digits[size:]
    if not 2 <= len(nsn) <= _MAX_NSN_DIGITS or nsn[0] == "0":  # italian leading zeros
        return None
    regions = _regions(code)
    main = regions[0]  # parse strips national prefixes by the calling code's main region
    if main is None or (main.national_prefix is not None and main.national_prefix.match(nsn)):
        return None
    region = main if len(regions) == 1 else _region_for(regions, nsn)
    if region is None or not region.has_type(nsn):  # is_valid_number_for_region
        return None
    return f"+{code}{nsn}"


def _region_for(regions: Sequence[_Region | None], nsn: str) -> _Region | None:
    """``phonenumbers._region_code_for_number_from_list``: the first region claiming it."""
    for region in regions:
        if region is None:
            continue
        if region.leading_digits is not None:
            if region.leading_digits.match(nsn):
                return region
        elif region.has_type(nsn):
            return region
    return None


def canonical_phone(raw: str, regions: Sequence[str] = DEFAULT_PHONE_REGIONS) -> str:
    """E.164 (``+420602123456``).  Numbers without ``+`` are tried in each region in turn."""
    number = e164(_clean_text(raw), regions)
    if number is None:
        raise InvalidInput(N_("Not a valid phone number."))
    return number


# Arabic-Indic (U+0660..) and Extended Arabic-Indic / Urdu (U+06F0..) digits to ASCII.
_EASTERN_DIGITS: Final[dict[int, int]] = {
    **{0x0660 + i: 0x30 + i for i in range(10)},
    **{0x06F0 + i: 0x30 + i for i in range(10)},
}


def canonical_iban(raw: str) -> str:
    try:
        return str(stdnum_iban.validate(_clean_text(raw)))
    except StdnumError:
        raise InvalidInput(N_("Not a valid IBAN (the check digits do not match).")) from None


def canonical_date(raw: str) -> str:
    """ISO 8601 (``1985-04-23``); also accepts the Czech ``23. 4. 1985``."""
    text = _clean_text(raw)
    czech = _CZECH_DATE.match(text)
    try:
        if czech:
            day, month, year = (int(g) for g in czech.groups())
            parsed = date(year, month, day)
        else:
            parsed = date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(N_("Not a valid date (expected YYYY-MM-DD).")) from None
    if not 1900 <= parsed.year <= 2100:
        raise InvalidInput(N_("Not a valid date (expected YYYY-MM-DD)."))
    return parsed.isoformat()


def canonical_name(raw: str) -> str:
    text = _clean_text(raw)
    # str.isdigit is Unicode-wide; on ASCII text it means exactly [0-9].
    if _ASCII_DIGIT.search(text) if text.isascii() else any(ch.isdigit() for ch in text):
        raise InvalidInput(N_("A name must not contain digits."))
    return text


def canonical_customer_number(raw: str) -> str:
    text = _clean_text(raw).upper().replace(" ", "")
    if not _CUSTOMER_NUMBER.match(text):
        raise InvalidInput(N_("Not a valid customer number (3-40 letters, digits, '-' or '/')."))
    return text


def canonical_national_id(raw: str) -> str:
    text = re.sub(r"[\s\-/]", "", _clean_text(raw)).upper()
    if not _NATIONAL_ID.match(text):
        raise InvalidInput(N_("Not a valid national identification number."))
    return text


def canonical_country(raw: str) -> str:
    text = _clean_text(raw).upper()
    if not _COUNTRY.match(text):
        raise InvalidInput(N_("Not a valid country code (expected two letters, e.g. CZ)."))
    return text


def match_key(kind: KindName, canonical: str) -> str:
    """The normalised form hashed by blind indexes and by the scanner's exact match."""
    if kind in ("email", "name", "text"):
        # ASCII is its own NFKC form, and its case folding is lower-casing.
        folded = (
            canonical.lower()
            if canonical.isascii()
            else unicodedata.normalize("NFKC", canonical).casefold()
        )
        return _SPACES.sub(" ", folded).strip()
    return canonical


_REGISTRY: Final[dict[KindName, Callable[[str], str]]] = {
    "email": canonical_email,
    "phone": canonical_phone,
    "iban": canonical_iban,
    "date": canonical_date,
    "name": canonical_name,
    "text": _clean_text,
    "customer_number": canonical_customer_number,
    "national_id": canonical_national_id,
    "country": canonical_country,
}


def canonical(
    kind: KindName, raw: str, phone_regions: Sequence[str] = DEFAULT_PHONE_REGIONS
) -> str:
    """Validate ``raw`` as ``kind`` and return its canonical stored form."""
    if not isinstance(raw, str):
        raise InvalidInput(N_("The value must be text."))
    if kind == "phone":
        return canonical_phone(raw, phone_regions)
    return _REGISTRY[kind](raw)
