"""Scanning files and giving a verdict: what the CLI (and later the API) call.

Every file gets its own report; one unreadable file never stops the others.  A
``block`` is passed to the registered ``BlockHandler``s after the report is
complete, so an incident sees the same counts the person saw.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import IO, Final

from privault.errors import N_, InvalidInput
from privault.scan.engine import Scanner
from privault.scan.formats import Job, Limits, scan_member
from privault.scan.model import FileReport, Problem, ScanReport
from privault.scan.verdict import (
    BlockHandler,
    EgressPolicy,
    Recipient,
    Unruled,
    decide,
)

CANNOT_OPEN: Final = N_("The file could not be opened (%(error)s).")


def _files(paths: Sequence[Path]) -> Iterator[tuple[Path, Path]]:
    """(file, path relative to what was named) for files and directory trees."""
    for path in paths:
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                yield child, Path(path.name) / child.relative_to(path)
        else:
            yield path, Path(path.name)


def scan_paths(
    paths: Sequence[Path],
    scanner: Scanner,
    *,
    recipient: Recipient | None = None,
    purpose: str | None = None,
    policy: EgressPolicy | None = None,
    asker: str = "anonymous",
    redact_to: Path | None = None,
    limits: Limits | None = None,
    block_handlers: Iterable[BlockHandler] = (),
) -> ScanReport:
    """Scan files (and directory trees) and decide; with ``redact_to``, write masked copies.

    ``redact_to`` is a file when one file is scanned, else a directory mirroring the
    inputs.
    """
    if not paths:
        raise InvalidInput(N_("Name at least one file to scan."))
    job = Job(scanner=scanner, limits=limits or Limits())
    files = list(_files(paths))
    single = len(files) == 1 and not paths[0].is_dir()
    for path, relative in files:
        target = None if redact_to is None else (redact_to if single else redact_to / relative)
        _scan_one(job, path, target)
    return finish(job, recipient, purpose, policy, asker, block_handlers)


def scan_stream(
    name: str,
    stream: IO[bytes],
    scanner: Scanner,
    *,
    recipient: Recipient | None = None,
    purpose: str | None = None,
    policy: EgressPolicy | None = None,
    asker: str = "anonymous",
    out: IO[bytes] | None = None,
    limits: Limits | None = None,
    block_handlers: Iterable[BlockHandler] = (),
) -> ScanReport:
    """One uploaded file or message (what ``POST /api/v1/scan`` will call)."""
    job = Job(scanner=scanner, limits=limits or Limits())
    if not stream.seekable():
        stream = io.BytesIO(stream.read(job.limits.max_member_bytes))
    scan_member(job, stream, name, out, 0)
    return finish(job, recipient, purpose, policy, asker, block_handlers)


def _scan_one(job: Job, path: Path, target: Path | None) -> None:
    try:
        handle = path.open("rb")
    except OSError as exc:
        job.reports.append(
            FileReport(
                str(path),
                problems=[
                    Problem(
                        "unreadable", CANNOT_OPEN, {"error": exc.strerror or type(exc).__name__}
                    )
                ],
            )
        )
        return
    with handle:
        if target is None:
            scan_member(job, handle, str(path), None, 0)
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        with partial.open("wb") as out:
            written = scan_member(job, handle, str(path), out, 0)
        if written:
            partial.replace(target)
        else:
            partial.unlink(missing_ok=True)


def finish(
    job: Job,
    recipient: Recipient | None,
    purpose: str | None,
    policy: EgressPolicy | None,
    asker: str,
    block_handlers: Iterable[BlockHandler],
) -> ScanReport:
    """Decide, record, then (for a block) tell the handlers -- in that order: no verdict
    is reported or acted on before its audit entry is written (fail closed)."""
    index = job.scanner.matcher.index if job.scanner.matcher is not None else None
    report = ScanReport(files=job.reports, matches=job.tally.result(index))
    policy = policy if policy is not None else Unruled()
    ruling = policy.rule(report.matches, asker, recipient, purpose)
    verdict = decide(report, ruling)
    report.verdict = verdict
    seq = policy.record(report, ruling)
    report.verdict = replace(verdict, audit_seq=seq)
    if report.verdict.decision == "block":
        for handler in block_handlers:
            handler.on_block(report, recipient, purpose)
    return report
