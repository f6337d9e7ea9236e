"""File formats: pick a handler by name and content, keep going when one file fails.

``scan_member`` is the one entry point for files and for members of archives and
e-mails; it records one ``FileReport`` per file and never lets an error in one
file stop the scan of the others.
"""

from __future__ import annotations

from typing import IO, Final

from privault.errors import N_
from privault.scan.formats.base import Handler, Job, LimitError, Limits
from privault.scan.formats.containers import scan_eml, scan_zip
from privault.scan.formats.structured import scan_json, scan_jsonl
from privault.scan.formats.tabular import scan_csv, scan_xlsx
from privault.scan.formats.text import scan_text
from privault.scan.model import FileReport, Problem

__all__ = ["HANDLERS", "Job", "Limits", "detect_format", "scan_member"]

HANDLERS: Final[dict[str, Handler]] = {
    "text": scan_text,
    "csv": scan_csv,
    "json": scan_json,
    "jsonl": scan_jsonl,
    "xlsx": scan_xlsx,
    "eml": scan_eml,
    "zip": scan_zip,
}
_BY_SUFFIX: Final[dict[str, str]] = {
    ".csv": "csv",
    ".tsv": "csv",
    ".tab": "csv",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".eml": "eml",
    ".zip": "zip",
}
_EMAIL_HEADERS: Final = (
    b"from:",
    b"received:",
    b"return-path:",
    b"mime-version:",
    b"message-id:",
    b"date:",
    b"to:",
    b"subject:",
    b"delivered-to:",
)
NO_COPY: Final = N_("No redacted copy of this file was written.")
UNEXPECTED: Final = N_("The file could not be scanned (%(error)s).")


def detect_format(name: str, head: bytes) -> str:
    """The handler for a file, from its magic bytes first and its name second."""
    lower = name.lower()
    suffix = lower[lower.rfind(".") :] if "." in lower.rsplit("!", 1)[-1].rsplit("/", 1)[-1] else ""
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return (
            "xlsx"
            if suffix in (".xlsx", ".xlsm")
            or (b"[Content_Types].xml" in head[:2048] and (b"xl/" in head[:4096]))
            else "zip"
        )
    if suffix in _BY_SUFFIX and _BY_SUFFIX[suffix] not in ("zip", "xlsx"):
        return _BY_SUFFIX[suffix]
    if suffix in (".xlsx", ".xlsm", ".zip"):
        return "zip"  # named like an archive but without the magic: the handler reports it
    if head.lstrip()[:1] in (b"{", b"["):
        return "json"
    if head[:1024].lower().startswith(_EMAIL_HEADERS):
        return "eml"
    return "text"


def scan_member(job: Job, stream: IO[bytes], name: str, out: IO[bytes] | None, depth: int) -> bool:
    """Scan one file into a new report; returns whether a redacted copy was written."""
    report = FileReport(path=name)
    job.reports.append(report)
    head = stream.read(4096)
    stream.seek(0)
    kind = detect_format(name, head)
    handler = HANDLERS[kind]
    try:
        handler(job, stream, name, report, out, depth)
    except LimitError as exc:
        report.problems.append(exc.problem)
    except (OSError, MemoryError, RecursionError, ValueError, LookupError) as exc:
        report.problems.append(Problem("unreadable", UNEXPECTED, {"error": type(exc).__name__}))
    if out is not None and report.failed:
        report.problems.append(Problem("redaction_incomplete", NO_COPY))
        return False
    return out is not None
