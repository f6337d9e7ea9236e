"""The scanning engine: a fast RE2 pre-filter, then recognisers on small windows.

Why two passes: ordinary text is almost all words.  One combined RE2 pattern (a DFA,
linear time, no backtracking) finds the few places worth a closer look -- runs of
digits, things around an ``@``, colon-separated hex -- at hundreds of MB/s.  Only
there do the recognisers' exact patterns, validators (Luhn, mod-97, mod-11, the
phone plans) and context words run, so their cost scales with the amount of
personal data, not with the size of the text.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Final

import re2

from privault.catalog.kinds import KindName, canonical_customer_number, canonical_name
from privault.errors import N_, InvalidInput
from privault.scan.matching import ExactMatcher, MatchTally
from privault.scan.model import CUSTOMER_NUMBER, PERSON, Finding
from privault.scan.recognizers import Registry, default_registry
from privault.scan.recognizers.base import ANY_DIGIT, AT_SIGN, COLONS, DIGITS, Recognizer

_D = f"[{ANY_DIGIT}]"
_SEP = r"[ \-./()\x{00a0}]"
# Group 1: e-mail-ish; 2: six or more digits with light separators; 3: IPv4; 4: IPv6-ish;
# 5: the start of an IBAN (its digits may begin well after the country code).
_PREFILTER: Final[str] = (
    r"([\p{L}\p{N}._%+\-]+@[\p{L}\p{N}\-]+(?:\.[\p{L}\p{N}\-]+)+)"
    rf"|({_D}(?:{_SEP}{{0,3}}{_D}){{5,}})"
    r"|([0-9]{1,3}(?:\.[0-9]{1,3}){3})"
    r"|([0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}:[0-9A-Fa-f:.]*)"
    r"|([A-Z]{2}[0-9]{2} ?[A-Z0-9]{4})"
)
_CLASS_OF_GROUP: Final = {1: AT_SIGN, 2: DIGITS, 3: DIGITS, 4: COLONS, 5: DIGITS}
# Capitalised word runs, where full names of our customers are looked for.
_NAME_RUN: Final[str] = r"\p{Lu}[\p{Ll}'’]+(?:[ \-]\p{Lu}[\p{Ll}'’]+)+"
_TOKEN_CHARS: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-/")

PAD: Final[int] = 8  # characters around a pre-filter hit where exact patterns may start
CONTEXT_CHARS: Final[int] = 64  # how far back context words are looked for
_CONTEXT_STOPS: Final = ("\n", "۔")  # context does not reach across lines or Urdu full stops
CHUNK_CHARS: Final[int] = 1 << 20
OVERLAP: Final[int] = 1024  # longer than any entity, so none is cut at a chunk boundary
MAX_CELL_FOR_NAME: Final[int] = 120

CUSTOMER_MATCH_SCORE: Final[float] = 0.95
CLAIMED: Final[float] = 0.85  # a validated match this strong is not second-guessed inside
MATCH_NOTE: Final = N_("matches one of our customers")
CONTEXT_NOTE: Final = N_("context word nearby")
NAME_EXPLANATION: Final = N_("name of one of our customers")
CUSTOMER_NUMBER_EXPLANATION: Final = N_("customer number of one of our customers")


@dataclass(slots=True)
class _Candidate:
    start: int
    end: int
    score: float
    recognizer: Recognizer | None
    entity: str
    explanation: str
    hits: tuple[tuple[str, int], ...] = ()
    context: bool = False
    notes: list[str] = field(default_factory=list)


class Scanner:
    """Finds personal data in text; with a matcher, also which of it is our customers'.

    ``analyze`` handles one string (a message, a cell); ``stream`` handles text of
    any length in chunks with flat memory.  A scanner is cheap to share; the
    per-scan customer tally is passed in, so one scanner serves many scans.
    """

    def __init__(
        self,
        registry: Registry | None = None,
        *,
        matcher: ExactMatcher | None = None,
        threshold: float = 0.5,
    ) -> None:
        self.registry = registry if registry is not None else default_registry()
        self.matcher = matcher
        self.threshold = threshold
        self._prefilter = re2.compile(_PREFILTER)
        self._names = re2.compile(_NAME_RUN)
        # Strong, cheap recognisers first: what they claim, weaker ones need not validate.
        ranked = sorted(
            self.registry, key=lambda r: -(r.validated_score or max(p.score for p in r.patterns))
        )
        self._by_class: dict[str, tuple[Recognizer, ...]] = {
            cls: tuple(r for r in ranked if cls in r.triggers) for cls in (DIGITS, AT_SIGN, COLONS)
        }

    # -- public ----------------------------------------------------------------------

    def analyze(
        self,
        text: str,
        *,
        context: str = "",
        whole_value: bool = False,
        tally: MatchTally | None = None,
        where: str = "",
    ) -> list[Finding]:
        """Findings in ``text``.  ``context`` (a column header) counts as nearby words;
        ``whole_value`` says the text is one value (a cell), so it may be a name."""
        found = self._scan(text, 0, len(text), context, tally)
        if whole_value and self.matcher is not None:
            found = self._whole_value(text, found, tally)
        return [self._finding(c, where) for c in found]

    def stream(
        self, chunks: Iterable[str], *, tally: MatchTally | None = None, where: str = ""
    ) -> Iterator[tuple[str, list[Finding], int]]:
        """Yield ``(piece, findings, offset)`` covering the text exactly once, in order.

        Finding offsets are relative to ``piece``; ``offset`` is where the piece starts
        in the whole text.  Consumers that redact write ``piece`` masked.
        """
        buf = ""
        base = 0  # offset of buf[0] in the whole text
        done = 0  # buf[:done] was already yielded and is kept only as context
        pending = iter(chunks)
        final = False
        while not final:
            piece = next(pending, None)
            if piece is None:
                final = True
            else:
                buf += piece
                if len(buf) - done < CHUNK_CHARS:
                    continue
            cut = len(buf) if final else len(buf) - OVERLAP
            found = self._scan(buf, done, cut, "", tally)
            end = max([cut, *(c.end for c in found)])
            findings = [
                self._finding(replace(c, start=c.start - done, end=c.end - done), where)
                for c in found
            ]
            if end > done or final:
                yield buf[done:end], findings, base + done
            keep = max(0, end - CONTEXT_CHARS)
            base += keep
            buf = buf[keep:]
            done = end - keep

    # -- the two passes ------------------------------------------------------------------

    def _scan(
        self, text: str, lo: int, hi: int, header: str, tally: MatchTally | None
    ) -> list[_Candidate]:
        windows: list[tuple[int, int, str]] = []
        for m in self._prefilter.finditer(text, lo, min(len(text), hi + OVERLAP)):
            start, end = m.span()
            if start >= hi:
                break
            cls = _CLASS_OF_GROUP[m.lastindex]
            ws, we = max(0, start - PAD), min(len(text), end + PAD)
            if windows and windows[-1][2] == cls and ws <= windows[-1][1]:
                windows[-1] = (windows[-1][0], max(windows[-1][1], we), cls)
            else:
                windows.append((ws, we, cls))
        candidates: list[_Candidate] = []
        for ws, we, cls in windows:
            group = self._window(text, ws, we, cls, header)
            candidates.extend(_resolve(group))
        if self.matcher is not None and self.matcher.fields("name"):
            candidates.extend(self._name_candidates(text, lo, hi))
            candidates = _resolve(candidates)
        kept = [c for c in candidates if lo <= c.start < hi and self._keep(c)]
        if tally is not None:
            for c in kept:
                tally.add(c.hits)
        return kept

    def _window(self, text: str, ws: int, we: int, cls: str, header: str) -> list[_Candidate]:
        out: list[_Candidate] = []
        seen: set[tuple[str, int, int]] = set()
        for recognizer in self._by_class[cls]:
            for pattern, regex in recognizer.compiled:
                for m in regex.finditer(text, ws, we):
                    start, end = m.span()
                    key = (recognizer.name, start, end)
                    if key in seen:
                        continue
                    seen.add(key)
                    if any(c.score >= CLAIMED and c.start <= start and end <= c.end for c in out):
                        continue
                    canonical = recognizer.validate(m.group())
                    if canonical is None:
                        continue
                    score = recognizer.validated_score or pattern.score
                    cand = _Candidate(
                        start, end, score, recognizer, recognizer.entity, recognizer.explanation
                    )
                    self._context(cand, text, header)
                    if not cand.context and _negative(recognizer, text, start):
                        continue
                    if recognizer.kind is not None and self.matcher is not None:
                        self._match(cand, recognizer.kind, canonical)
                    out.append(cand)
        if cls == DIGITS and self.matcher is not None and self.matcher.fields("customer_number"):
            out.extend(self._customer_numbers(text, ws, we, out))
        return out

    def _context(self, cand: _Candidate, text: str, header: str) -> None:
        regex = cand.recognizer.context_regex if cand.recognizer else None
        if regex is None:
            return
        before = text[max(0, cand.start - CONTEXT_CHARS) : cand.start]
        for stop in _CONTEXT_STOPS:
            before = before.rpartition(stop)[2]
        if regex.search(before) or (header and regex.search(header)):
            cand.context = True
            cand.score = min(
                1.0, cand.score + (cand.recognizer.context_boost if cand.recognizer else 0)
            )
            cand.notes.append(CONTEXT_NOTE)

    def _match(self, cand: _Candidate, kind: KindName, canonical: str) -> None:
        assert self.matcher is not None
        hits = self.matcher.match(kind, canonical)
        if hits:
            cand.hits = hits
            cand.score = max(cand.score, CUSTOMER_MATCH_SCORE)
            cand.notes.append(MATCH_NOTE)

    def _keep(self, cand: _Candidate) -> bool:
        if cand.hits:
            return True
        if cand.recognizer is not None and cand.recognizer.needs_context and not cand.context:
            return False
        return cand.score >= self.threshold

    def _customer_numbers(
        self, text: str, ws: int, we: int, known: list[_Candidate]
    ) -> Iterator[_Candidate]:
        """Tokens around digit runs, looked up as our customer numbers."""
        start = ws + PAD if ws else 0
        while start > 0 and text[start - 1] in _TOKEN_CHARS:
            start -= 1
        for token in re.finditer(r"[A-Za-z0-9][A-Za-z0-9\-/]{2,39}", text[start:we]):
            if not any(ch.isdigit() for ch in token.group()):
                continue
            s, e = start + token.start(), start + token.end()
            if any(c.start <= s and e <= c.end for c in known):
                continue
            try:
                value = canonical_customer_number(token.group())
            except InvalidInput:
                continue
            assert self.matcher is not None
            hits = self.matcher.match("customer_number", value)
            if hits:
                yield _Candidate(
                    s,
                    e,
                    CUSTOMER_MATCH_SCORE,
                    None,
                    CUSTOMER_NUMBER,
                    CUSTOMER_NUMBER_EXPLANATION,
                    hits,
                    notes=[MATCH_NOTE],
                )

    def _name_candidates(self, text: str, lo: int, hi: int) -> Iterator[_Candidate]:
        """Adjacent capitalised words (two or three) looked up as our customers' full names."""
        assert self.matcher is not None
        for m in self._names.finditer(text, lo, hi):
            words = [(w.start(), w.end()) for w in re.finditer(r"[^ \-]+", m.group())]
            base = m.start()
            for size in (2, 3):
                for i in range(len(words) - size + 1):
                    s, e = base + words[i][0], base + words[i + size - 1][1]
                    hits = self.matcher.match("name", text[s:e])
                    if hits:
                        yield _Candidate(
                            s,
                            e,
                            CUSTOMER_MATCH_SCORE,
                            None,
                            PERSON,
                            NAME_EXPLANATION,
                            hits,
                            notes=[MATCH_NOTE],
                        )

    def _whole_value(
        self, text: str, found: list[_Candidate], tally: MatchTally | None
    ) -> list[_Candidate]:
        """A cell that as a whole is one of our customers' names or customer numbers."""
        assert self.matcher is not None
        stripped = text.strip()
        if found or not stripped or len(stripped) > MAX_CELL_FOR_NAME:
            return found
        offset = text.index(stripped)
        for kind, entity, explanation, canon in (
            ("name", PERSON, NAME_EXPLANATION, canonical_name),
            (
                "customer_number",
                CUSTOMER_NUMBER,
                CUSTOMER_NUMBER_EXPLANATION,
                canonical_customer_number,
            ),
        ):
            if not self.matcher.fields(kind):  # type: ignore[arg-type]
                continue
            try:
                value = canon(stripped)
            except InvalidInput:
                continue
            hits = self.matcher.match(kind, value)  # type: ignore[arg-type]
            if hits:
                if tally is not None:
                    tally.add(hits)
                return [
                    _Candidate(
                        offset,
                        offset + len(stripped),
                        CUSTOMER_MATCH_SCORE,
                        None,
                        entity,
                        explanation,
                        hits,
                        notes=[MATCH_NOTE],
                    )
                ]
        return found

    @staticmethod
    def _finding(cand: _Candidate, where: str) -> Finding:
        explanation = "; ".join([cand.explanation, *cand.notes])
        name = cand.recognizer.name if cand.recognizer else "exact_match"
        return Finding(
            cand.entity,
            cand.start,
            cand.end,
            round(cand.score, 2),
            explanation,
            name,
            where,
            bool(cand.hits),
        )


NEGATIVE_CHARS: Final[int] = 24  # how far back a negative context word is looked for


def _negative(recognizer: Recognizer, text: str, start: int) -> bool:
    """A negative context word ends right before the match ("Verze 10.2.3.4")."""
    regex = recognizer.negative_regex
    if regex is None:
        return False
    before = text[max(0, start - NEGATIVE_CHARS) : start]
    return regex.search(before.rpartition("\n")[2]) is not None


def _resolve(candidates: list[_Candidate]) -> list[_Candidate]:
    """Overlapping candidates: the higher score wins, then the longer span."""
    if len(candidates) < 2:
        return candidates
    starts: list[int] = []  # accepted spans, sorted and disjoint
    chosen: list[_Candidate] = []
    for cand in sorted(candidates, key=lambda c: (-c.score, c.start - c.end, c.start)):
        i = bisect_right(starts, cand.start)
        if i and chosen[i - 1].end > cand.start:
            continue
        if i < len(starts) and starts[i] < cand.end:
            continue
        starts.insert(i, cand.start)
        chosen.insert(i, cand)
    return chosen
