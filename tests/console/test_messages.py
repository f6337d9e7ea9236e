"""Every text of the pages a person reads -- in templates and in page code -- exists in
Czech and Urdu; the console's own texts are in its catalog (console.po)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

import privault
from privault.i18n import load_catalog

SRC = Path(privault.__file__).parent
CONSOLE = SRC / "console"
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _python(path: Path) -> set[str]:
    keywords = {"N_": None, "_": None, "gettext": None}
    return {str(m) for _, m, _, _ in extract_from_file("python", str(path), keywords=keywords)}


def page_messages() -> set[str]:
    found: set[str] = set()
    for path in sorted(CONSOLE.rglob("*.py")):
        found |= _python(path)
    for path in sorted((CONSOLE / "templates").rglob("*.html")):
        for _, message, _, _ in extract_from_file("jinja2", str(path), keywords={"_": None}):
            found.add(str(message))
    return found


def elsewhere() -> set[str]:
    """Texts the rest of the package uses too (they stay in that slice's catalog)."""
    found: set[str] = set()
    for path in sorted(SRC.rglob("*.py")):
        if CONSOLE not in path.parents:
            found |= _python(path)
    return found


@pytest.mark.parametrize("lang", ["cs", "ur"])
def test_every_page_message_is_translated(lang: str) -> None:
    with (SRC / "i18n" / "locale" / lang / "LC_MESSAGES" / "console.po").open("rb") as handle:
        own = read_po(handle, locale=lang)
    merged = load_catalog(lang)  # type: ignore[arg-type]
    messages = page_messages()
    shared = elsewhere()
    assert len(messages) > 50
    for msgid in messages:
        entry = merged.get(msgid) if msgid in shared else own.get(msgid)
        assert entry is not None and entry.string and not entry.fuzzy, msgid
        translated = str(entry.string)
        assert set(PLACEHOLDER.findall(translated)) == set(PLACEHOLDER.findall(msgid)), msgid
        if lang == "ur" and msgid.endswith("."):
            assert translated.endswith("۔"), msgid  # Urdu full stop


@pytest.mark.parametrize("lang", ["cs", "ur"])
def test_the_console_catalog_holds_only_page_messages(lang: str) -> None:
    with (SRC / "i18n" / "locale" / lang / "LC_MESSAGES" / "console.po").open("rb") as handle:
        own = read_po(handle, locale=lang)
    unused = {str(m.id) for m in own if m.id} - page_messages()
    assert unused == set()
