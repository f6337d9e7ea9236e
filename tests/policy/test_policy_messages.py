"""Every policy message has a Czech and an Urdu translation with the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

import privault
from privault.policy import MESSAGES

SRC = Path(privault.__file__).parent
PLACEHOLDER = re.compile(r"%\(\w+\)s")


def marked() -> set[str]:
    files = [*sorted((SRC / "policy").glob("*.py")), SRC / "cli" / "policy.py"]
    return {
        message
        for path in files
        for _, message, _, _ in extract_from_file("python", str(path), keywords={"N_": None})
        if isinstance(message, str)
    }


@pytest.mark.parametrize("lang", ["cs", "ur"])
def test_catalog_translates_every_policy_message(lang: str) -> None:
    with (SRC / "i18n" / "locale" / lang / "LC_MESSAGES" / "policy.po").open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    translated = {m.id: m.string for m in catalog if m.id and m.string and not m.fuzzy}
    messages = marked()
    assert set(MESSAGES.values()) <= messages
    assert messages <= set(translated)
    for msgid in messages:
        text = translated[msgid]
        assert isinstance(text, str) and text != msgid
        assert sorted(PLACEHOLDER.findall(text)) == sorted(PLACEHOLDER.findall(msgid)), msgid
        if lang == "ur" and msgid.rstrip().endswith("."):
            assert text.rstrip().endswith("۔"), msgid  # Urdu full stop, not a Latin one
        if lang == "ur":
            assert not re.search(r"[A-Za-z)]\.\s", text.replace("Art.", "")), msgid
