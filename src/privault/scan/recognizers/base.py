"""The shape of a recogniser, after presidio: patterns, a validator, context words.

A recogniser never sees a whole document.  The scanner's fast pre-filter (RE2, one
combined pattern) finds short candidate windows; only there do the recognisers run
their exact patterns and validators.  ``validate`` returns the *canonical* value
(what blind indexes hash) or ``None``: the canonical value is used for the exact
match and then dropped -- it never reaches a ``Finding``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType
from typing import ClassVar, Final

from privault.catalog.kinds import KindName, ascii_digits

# ASCII digits and the Arabic-Indic / Extended Arabic-Indic (Urdu) digits.
ANY_DIGIT: Final[str] = "0-9\u0660-\u0669\u06f0-\u06f9"

# Which pre-filter class woke the scanner up; recognisers say which ones they serve.
DIGITS: Final = "digits"
AT_SIGN: Final = "at"
COLONS: Final = "colons"


def only_digits(text: str) -> str:
    return "".join(ch for ch in ascii_digits(text) if ch.isdigit())


def context_words(
    *, en: Sequence[str], cs: Sequence[str], ur: Sequence[str]
) -> Mapping[str, tuple[str, ...]]:
    """Context words per language (read-only, so subclasses cannot share mutations)."""
    return MappingProxyType({"en": tuple(en), "cs": tuple(cs), "ur": tuple(ur)})


@dataclass(frozen=True, slots=True)
class Pattern:
    """A named regular expression (Python ``re`` syntax) and the score of a bare match."""

    name: str
    regex: str
    score: float


class Recognizer:
    """Base class.  Subclasses set the class attributes and override ``validate``."""

    name: ClassVar[str]
    entity: ClassVar[str]
    patterns: ClassVar[tuple[Pattern, ...]]
    triggers: ClassVar[frozenset[str]] = frozenset({DIGITS})
    # Words that make a match more likely when found shortly before it, per language.
    context: ClassVar[Mapping[str, Sequence[str]]] = {}
    context_boost: ClassVar[float] = 0.35
    # Validated score: what a match scores once ``validate`` accepted it.
    validated_score: ClassVar[float | None] = None
    # Without a context word (or a match with our customers) the match is not reported.
    needs_context: ClassVar[bool] = False
    # Words that, right before a match and without a context word, say it is something
    # else ("Verze 10.2.3.4" is a version, not an IP address): the match is dropped.
    negative_context: ClassVar[Mapping[str, Sequence[str]]] = {}
    # Value kind for the exact match against our customers (``catalog.kinds``).
    kind: ClassVar[KindName | None] = None
    explanation: ClassVar[str]
    # The country a recogniser is filed under, or "" for generic ones.
    country: ClassVar[str] = ""

    @cached_property
    def compiled(self) -> tuple[tuple[Pattern, re.Pattern[str]], ...]:
        return tuple((p, re.compile(p.regex)) for p in self.patterns)

    @cached_property
    def context_regex(self) -> re.Pattern[str] | None:
        words = sorted(
            {w.casefold() for ws in self.context.values() for w in ws}, key=len, reverse=True
        )
        if not words:
            return None
        alternatives = "|".join(re.escape(w) for w in words)
        return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)

    @cached_property
    def negative_regex(self) -> re.Pattern[str] | None:
        """Matches when the text just before a match ends in a negative context word."""
        words = sorted(
            {w.casefold() for ws in self.negative_context.values() for w in ws},
            key=len,
            reverse=True,
        )
        if not words:
            return None
        alternatives = "|".join(re.escape(w) for w in words)
        return re.compile(rf"(?<!\w)(?:{alternatives})[\s:.#-]{{0,3}}$", re.IGNORECASE)

    def validate(self, text: str) -> str | None:
        """The canonical value if ``text`` really is this entity, else ``None``."""
        return text

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.entity}>"
