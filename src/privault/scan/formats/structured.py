"""JSON and JSON Lines: every string (and number) scanned with its key as context.

A JSON document is parsed whole, so it is bounded by ``max_structured_bytes``;
beyond that it is scanned as plain text (findings are still found, only the
redacted copy loses its structure).  JSON Lines stream one record at a time.
"""

from __future__ import annotations

import io
import json
from typing import IO, Any, Final

from privault.errors import N_
from privault.scan.formats.base import Job, LimitError, MiB, mask
from privault.scan.formats.text import decoded_chunks, lines, open_text, scan_text
from privault.scan.model import FileReport, Problem

BAD_JSON: Final = N_("The file is not valid JSON; it was scanned as plain text.")
BAD_JSON_LINE: Final = N_("Line %(line)s is not valid JSON; it was scanned as plain text.")
JSON_TOO_LARGE: Final = N_(
    "The JSON document is larger than %(limit)s MiB; it was scanned as plain text."
)
TOO_DEEP: Final = N_("The JSON document is nested too deeply; it was scanned as plain text.")
MAX_REPORTED_BAD_LINES: Final[int] = 5


def _walk(job: Job, value: Any, report: FileReport, key: str, path: str) -> Any:
    """The value with personal data masked; scans strings and numbers, keys as context."""
    if isinstance(value, dict):
        return {k: _walk(job, v, report, str(k), f"{path}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(job, v, report, key, f"{path}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, bool) or value is None:
        return value
    text = str(value)
    report.characters += len(text)
    findings = job.scanner.analyze(text, context=key, whole_value=True, tally=job.tally, where=path)
    if not findings:
        return value
    job.add_findings(report, findings)
    return mask(text, findings)


def scan_json(
    job: Job, stream: IO[bytes], name: str, report: FileReport, out: IO[bytes] | None, depth: int
) -> None:
    limit = job.limits.max_structured_bytes
    data = stream.read(limit + 1)
    problem: Problem | None = None
    document: Any = None
    if len(data) > limit:
        problem = Problem("scanned_as_text", JSON_TOO_LARGE, {"limit": limit // MiB})
    else:
        try:
            document = json.loads(data)
        except (ValueError, UnicodeDecodeError):
            problem = Problem("scanned_as_text", BAD_JSON)
        except RecursionError:
            problem = Problem("too_deep", TOO_DEEP)
    if problem is not None:
        scan_text(job, io.BufferedReader(_Chain(data, stream)), name, report, out, depth)
        report.format = "json"
        report.problems.append(problem)
        return
    report.format = "json"
    try:
        masked = _walk(job, document, report, "", "$")
    except RecursionError:
        report.problems.append(Problem("too_deep", TOO_DEEP))
        return
    if out is not None:
        out.write(json.dumps(masked, ensure_ascii=False, indent=2).encode("utf-8"))


def scan_jsonl(
    job: Job, stream: IO[bytes], name: str, report: FileReport, out: IO[bytes] | None, depth: int
) -> None:
    report.format = "jsonl"
    opened = open_text(stream, report)
    if opened is None:
        return
    head, encoding = opened
    bad = 0
    try:
        for number, line in enumerate(lines(decoded_chunks(head, stream, encoding)), start=1):
            stripped = line.strip()
            if not stripped:
                if out is not None:
                    out.write(line.encode("utf-8"))
                continue
            try:
                record = json.loads(stripped)
                result = json.dumps(
                    _walk(job, record, report, "", f"line {number}"), ensure_ascii=False
                )
            except (ValueError, RecursionError):
                bad += 1
                if bad <= MAX_REPORTED_BAD_LINES:
                    report.problems.append(
                        Problem("scanned_as_text", BAD_JSON_LINE, {"line": number})
                    )
                findings = job.scanner.analyze(stripped, tally=job.tally, where=f"line {number}")
                job.add_findings(report, findings)
                report.characters += len(stripped)
                result = mask(stripped, findings)
            if out is not None:
                out.write((result + "\n").encode("utf-8"))
    except LimitError as exc:
        report.problems.append(exc.problem)


class _Chain(io.RawIOBase):
    """Bytes already read, followed by the rest of the stream."""

    def __init__(self, first: bytes, rest: IO[bytes]) -> None:
        self._first = first
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer)
        if self._first:
            n = min(len(view), len(self._first))
            view[:n] = self._first[:n]
            self._first = self._first[n:]
            return n
        data = self._rest.read(len(view))
        view[: len(data)] = data
        return len(data)
