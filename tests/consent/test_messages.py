"""Every text of the consent slice a person reads exists in Czech and Urdu, in the
slice's own catalog (the preference centre's are the console's: tests/console)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

import privault

SRC = Path(privault.__file__).parent
PYTHON = [
    *sorted((SRC / "consent").glob("*.py")),
    SRC / "cli" / "consent.py",
]
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def marked() -> set[str]:
    found: set[str] = set()
    for path in PYTHON:
        for _, message, _, _ in extract_from_file("python", str(path), keywords={"N_": None}):
            found.add(str(message))
    return found


@pytest.mark.parametrize("lang", ["cs", "ur"])
def test_every_consent_message_is_translated(lang: str) -> None:
    with (SRC / "i18n" / "locale" / lang / "LC_MESSAGES" / "consent.po").open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    messages = marked()
    assert len(messages) > 20
    for msgid in messages:
        entry = catalog.get(msgid)
        assert entry is not None and entry.string and not entry.fuzzy, msgid
        translated = str(entry.string)
        assert set(PLACEHOLDER.findall(translated)) == set(PLACEHOLDER.findall(msgid)), msgid
        if lang == "ur" and msgid.endswith("."):
            assert translated.endswith("۔"), msgid  # Urdu full stop
