"""Translations for every message a person reads: English, Czech and Urdu.

Catalogs are gettext ``.po`` files under ``i18n/locale/<lang>/LC_MESSAGES/``; each
slice keeps its own file (``core.po``, ``policy.po``, ``scan.po``...) so that work on
one slice never conflicts with another.  At first use the files of a language are
merged and compiled in memory with Babel, so there are no generated ``.mo`` files to
keep in step.  English is the source language: msgids are the English text.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path
from typing import Final, Literal

from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

Language = Literal["en", "cs", "ur"]
LANGUAGES: Final[tuple[Language, ...]] = ("en", "cs", "ur")
DEFAULT_LANGUAGE: Final[Language] = "en"
LOCALE_DIR: Final[Path] = Path(__file__).parent / "locale"

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "LOCALE_DIR",
    "Language",
    "direction",
    "format_number",
    "load_catalog",
    "negotiate",
    "parse_language",
    "translator",
]


def parse_language(value: str | None) -> Language:
    """Normalise a language tag (``cs-CZ``, ``ur_PK``, ``EN``) to a supported language."""
    if not value:
        return DEFAULT_LANGUAGE
    base = value.strip().replace("_", "-").split("-", 1)[0].lower()
    for lang in LANGUAGES:
        if lang == base:
            return lang
    return DEFAULT_LANGUAGE


def negotiate(accept_language: str | None) -> Language:
    """Pick the best supported language from an HTTP ``Accept-Language`` header."""
    if not accept_language:
        return DEFAULT_LANGUAGE
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag:
            ranked.append((-quality, position, tag))
    for negative_quality, _, tag in sorted(ranked):
        if negative_quality >= 0:
            continue
        base = tag.replace("_", "-").split("-", 1)[0].lower()
        if base in LANGUAGES:
            return parse_language(base)
    return DEFAULT_LANGUAGE


def direction(lang: str) -> Literal["ltr", "rtl"]:
    return "rtl" if Locale.parse(parse_language(lang)).text_direction == "rtl" else "ltr"


def format_number(value: int | float, lang: str) -> str:
    """Numbers as a reader of ``lang`` writes them (``1,204``, ``1 204``, ``1,204``)."""
    return format_decimal(value, locale=parse_language(lang))


def load_catalog(lang: Language) -> Catalog:
    """All ``.po`` files of one language merged into one Babel catalog."""
    merged = Catalog(locale=lang, domain="privault")
    folder = LOCALE_DIR / lang / "LC_MESSAGES"
    for po_path in sorted(folder.glob("*.po")) if folder.is_dir() else []:
        with po_path.open("rb") as handle:
            part = read_po(handle, locale=lang)
        for message in part:
            if message.id and message.string and not message.fuzzy:
                merged[message.id] = message
    return merged


@cache
def translator(lang: str) -> NullTranslations:
    """A gettext translations object for ``lang``; English and unknown tags get msgids back."""
    language = parse_language(lang)
    if language == "en":
        return NullTranslations()
    buffer = io.BytesIO()
    write_mo(buffer, load_catalog(language))
    buffer.seek(0)
    return Translations(fp=buffer, domain="privault")
