"""What every format handler shares: limits, the per-scan job, bounded reading, masking.

Limits are what keep hostile input harmless: a zip bomb, a million nested
archives or a 10 GB "spreadsheet" end in a clear per-file problem, not in an
exhausted machine.  Every byte a handler reads from a container goes through a
``BoundedReader`` that counts against the scan's budget.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any, Final

from privault.errors import N_
from privault.scan.engine import Scanner
from privault.scan.matching import MatchTally
from privault.scan.model import FileReport, Finding, Problem

MiB: Final[int] = 1 << 20
READ_BYTES: Final[int] = 1 * MiB


@dataclass(frozen=True, slots=True)
class Limits:
    max_depth: int = 4  # archives and attachments inside each other
    max_members: int = 10_000  # files in one archive
    max_member_bytes: int = 1024 * MiB  # one unpacked member
    max_total_bytes: int = 8 * 1024 * MiB  # everything unpacked from one top-level file
    max_ratio: int = 200  # unpacked size / packed size of one member
    max_structured_bytes: int = 64 * MiB  # JSON documents and e-mails are parsed whole
    max_cells: int = 20_000_000  # spreadsheet cells
    max_listed_findings: int = 1000  # findings listed per file; all are counted


class LimitError(Exception):
    """Raised inside handlers; the dispatcher turns it into a per-file problem."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.code)
        self.problem = problem


@dataclass
class Job:
    """One scan: the scanner, the customer tally, the limits and the reports so far."""

    scanner: Scanner
    limits: Limits = field(default_factory=Limits)
    tally: MatchTally = field(default_factory=MatchTally)
    reports: list[FileReport] = field(default_factory=list)
    unpacked: int = 0

    def add_findings(self, report: FileReport, findings: list[Finding]) -> None:
        for finding in findings:
            report.counts[finding.entity] += 1
            report.matched += finding.customer_match
            if len(report.findings) < self.limits.max_listed_findings:
                report.findings.append(finding)
            else:
                report.findings_dropped += 1

    def charge(self, size: int) -> None:
        self.unpacked += size
        if self.unpacked > self.limits.max_total_bytes:
            raise LimitError(
                Problem(
                    "limit",
                    N_("More than %(limit)s MiB would be unpacked; the rest was not scanned."),
                    {"limit": self.limits.max_total_bytes // MiB},
                )
            )


class BoundedReader(io.RawIOBase):
    """A read-only stream that stops with ``LimitError`` after ``limit`` bytes."""

    def __init__(self, inner: IO[bytes], limit: int, job: Job, problem: Problem) -> None:
        self._inner = inner
        self._left = limit
        self._job = job
        self._problem = problem

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer)
        data = self._inner.read(min(len(view), self._left + 1))
        if len(data) > self._left:
            raise LimitError(self._problem)
        self._left -= len(data)
        self._job.charge(len(data))
        view[: len(data)] = data
        return len(data)


def mask(text: str, findings: list[Finding]) -> str:
    """``text`` with each finding replaced by its entity type in brackets."""
    if not findings:
        return text
    parts: list[str] = []
    pos = 0
    for finding in sorted(findings, key=lambda f: (f.start, -f.end)):
        if finding.start < pos:
            # Overlaps the previous finding: mask through whichever ends later, so a
            # longer overlapping finding never leaves its tail in the clear.
            pos = max(pos, finding.end)
            continue
        parts.append(text[pos : finding.start])
        parts.append(f"[{finding.entity}]")
        pos = finding.end
    parts.append(text[pos:])
    return "".join(parts)


# A handler scans one stream into its report and, when ``out`` is given, writes a
# redacted copy there.  ``name`` is the location shown to people (``a.zip!b.csv``).
Handler = Callable[[Job, IO[bytes], str, FileReport, "IO[bytes] | None", int], None]
