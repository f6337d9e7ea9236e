"""Every message marked for translation in src/ has a Czech and an Urdu translation that
keeps its placeholders; catalogs load; Urdu is right-to-left."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir

from privault.i18n import direction, format_number, load_catalog, negotiate, translator

SRC = Path(__file__).resolve().parents[2] / "src" / "privault"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]")


def marked_messages() -> dict[str, str]:
    """msgid -> where it is used, for every N_()/gettext()/_() call in the package."""
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(SRC),
        method_map=[("**.py", "python")],
        keywords={"N_": None, "_": None, "gettext": None},
    ):
        if isinstance(message, str) and message:
            found.setdefault(message, f"{filename}:{lineno}")
    return found


MESSAGES = marked_messages()


def test_extraction_finds_the_package_messages() -> None:
    assert "The value could not be decrypted." in MESSAGES
    assert len(MESSAGES) > 50


@pytest.mark.parametrize("lang", ["cs", "ur"])
def test_every_message_is_translated(lang: str) -> None:
    catalog = load_catalog(lang)  # type: ignore[arg-type]
    missing = [f"{where}: {msgid}" for msgid, where in MESSAGES.items() if msgid not in catalog]
    assert missing == [], f"{len(missing)} messages lack a {lang} translation"


@pytest.mark.parametrize("lang", ["cs", "ur"])
def test_translations_keep_their_placeholders(lang: str) -> None:
    catalog = load_catalog(lang)  # type: ignore[arg-type]
    wrong = []
    for message in catalog:
        if not message.id or not isinstance(message.id, str):
            continue
        source = sorted(set(PLACEHOLDER.findall(message.id)))
        target = sorted(set(PLACEHOLDER.findall(str(message.string))))
        if source != target:
            wrong.append(f"{message.id!r}: {source} != {target}")
    assert wrong == []


def test_rendering_in_each_language() -> None:
    message = "The value could not be decrypted."
    assert translator("en").gettext(message) == message
    assert translator("cs").gettext(message) != message
    assert translator("ur").gettext(message) != message
    assert direction("ur") == "rtl" and direction("cs") == "ltr"
    assert format_number(1204, "en") == "1,204"
    assert format_number(1204, "cs") == "1\xa0204"
    assert negotiate("cs-CZ,cs;q=0.9,en;q=0.8") == "cs"
    assert negotiate("de-DE, ur;q=0.5") == "ur"
    assert negotiate("fr") == "en"
    assert negotiate("ur;q=0, cs;q=0.1") == "cs"
