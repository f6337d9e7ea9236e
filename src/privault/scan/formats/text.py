"""Plain text in any encoding, streamed: detect the encoding from the head, decode on.

UTF-8 (with or without BOM) and UTF-16 with a BOM are recognised directly; anything
else is left to charset-normalizer.  Binary input (NUL bytes, or no encoding that
explains it) is refused with a clear problem rather than scanned as noise.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from dataclasses import replace
from typing import IO, Final

from charset_normalizer import from_bytes

from privault.errors import N_
from privault.scan.formats.base import READ_BYTES, Job, LimitError, mask
from privault.scan.model import FileReport, Finding, Problem

SNIFF_BYTES: Final[int] = 64 * 1024
NOT_TEXT: Final = N_(
    "This is not text in any encoding we recognise (binary data?); it was not scanned."
)


class NotTextError(Exception):
    pass


def detect_encoding(head: bytes) -> str:
    """The encoding of a file, from its first bytes; raises ``NotTextError`` for binary data."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in head:
        raise NotTextError()
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3:  # a character cut at the sniff boundary
            return "utf-8"
    best = from_bytes(head).best()
    if best is None:
        raise NotTextError()
    return str(best.encoding)


def decoded_chunks(head: bytes, stream: IO[bytes], encoding: str) -> Iterator[str]:
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    data = head
    while data:
        text = decoder.decode(data)
        if text:
            yield text
        data = stream.read(READ_BYTES)
    tail = decoder.decode(b"", final=True)
    if tail:
        yield tail


def lines(chunks: Iterator[str]) -> Iterator[str]:
    """Lines with their endings, from decoded chunks (``csv`` wants an iterator of lines)."""
    rest = ""
    for chunk in chunks:
        parts = (rest + chunk).splitlines(keepends=True)
        last = parts[-1] if parts else "\n"
        rest = parts.pop() if not last.endswith("\n") else ""  # "\r" may be half of "\r\n"
        yield from parts
    if rest:
        yield rest


def open_text(stream: IO[bytes], report: FileReport) -> tuple[bytes, str] | None:
    """Read the head and detect the encoding, or record why the stream is not text."""
    head = stream.read(SNIFF_BYTES)
    try:
        encoding = detect_encoding(head)
    except NotTextError:
        report.problems.append(Problem("not_text", NOT_TEXT))
        return None
    return head, encoding


def scan_text(
    job: Job, stream: IO[bytes], name: str, report: FileReport, out: IO[bytes] | None, depth: int
) -> None:
    report.format = "text"
    opened = open_text(stream, report)
    if opened is None:
        return
    head, encoding = opened
    out_encoding = "utf-8" if encoding in ("utf-8-sig", "utf-16") else encoding
    if out is not None and encoding == "utf-8-sig":
        out.write(codecs.BOM_UTF8)
    try:
        for piece, findings, _offset in job.scanner.stream(
            decoded_chunks(head, stream, encoding), tally=job.tally
        ):
            report.characters += len(piece)
            job.add_findings(report, [_shift(f, _offset) for f in findings])
            if out is not None:
                out.write(mask(piece, findings).encode(out_encoding, errors="replace"))
    except LimitError as exc:
        report.problems.append(exc.problem)


def scan_string(job: Job, text: str, report: FileReport, where: str = "") -> str:
    """Scan text already in memory (an e-mail body); returns it masked."""
    report.characters += len(text)
    findings = job.scanner.analyze(text, tally=job.tally, where=where)
    job.add_findings(report, findings)
    return mask(text, findings)


def _shift(finding: Finding, offset: int) -> Finding:
    return replace(finding, start=finding.start + offset, end=finding.end + offset)
