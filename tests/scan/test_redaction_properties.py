"""Redaction never lets a detected value through: for any overlapping findings, and for
text streamed in chunks split anywhere (a value may straddle a chunk boundary)."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from privault.scan import Scanner
from privault.scan.formats.base import mask
from privault.scan.model import Finding

spans = st.lists(
    st.tuples(st.integers(0, 60), st.integers(1, 25)).map(lambda t: (t[0], t[0] + t[1])),
    max_size=8,
)


@given(spans=spans)
@settings(max_examples=300, deadline=None)
def test_mask_covers_every_character_of_every_finding(spans: list[tuple[int, int]]) -> None:
    covered = {i for start, end in spans for i in range(start, end)}
    text = "".join("X" if i in covered else "a" for i in range(90))
    findings = [Finding("SECRET", start, end, 1.0, "", "test") for start, end in spans]
    masked = mask(text, findings)
    assert "X" not in masked
    assert masked.replace("[SECRET]", "") == "a" * (90 - len(covered))


FILLER = st.text(alphabet="abcdefghij klmnop,.\n", min_size=0, max_size=40)
LOCAL = st.from_regex(r"[a-z]{2,10}\.[a-z]{2,10}[0-9]{1,4}", fullmatch=True)


@given(
    parts=st.lists(st.tuples(FILLER, LOCAL), min_size=1, max_size=6),
    tail=FILLER,
    cuts=st.lists(st.integers(1, 400), max_size=12),
)
@settings(max_examples=200, deadline=None)
def test_streamed_text_never_leaks_an_address_whatever_the_chunking(
    parts: list[tuple[str, str]], tail: str, cuts: list[int]
) -> None:
    addresses = [f"{local}@example.com" for _, local in parts]
    text = "".join(
        f"{filler} {address} " for (filler, _), address in zip(parts, addresses, strict=True)
    )
    text += tail
    points = sorted({c % (len(text) + 1) for c in cuts} | {0, len(text)})
    chunks = [text[a:b] for a, b in pairwise(points)]
    out = "".join(mask(piece, findings) for piece, findings, _ in Scanner().stream(chunks))
    for address in addresses:
        assert address not in out
    assert out.count("[EMAIL_ADDRESS]") == len(addresses)
