"""ZIP archives and e-mail messages: their members are scanned recursively.

Bombs are stopped three ways: each member's declared size and compression ratio
are checked before it is opened, the bytes actually unpacked are counted (a
member cannot lie its way past its declared size), and nesting is bounded by
``max_depth``.  Members spill to a temporary file beyond a few MiB, so memory
stays flat however large they are.
"""

from __future__ import annotations

import email
import email.policy
import tempfile
import zipfile
from email.message import EmailMessage
from typing import IO, Final

from privault.errors import N_
from privault.scan.formats.base import BoundedReader, Job, LimitError, MiB
from privault.scan.formats.text import scan_string
from privault.scan.model import FileReport, Problem

SPOOL_BYTES: Final[int] = 8 * MiB
BAD_ZIP: Final = N_("The archive is damaged or not a ZIP file; it was not scanned.")
ENCRYPTED: Final = N_("An archive member is encrypted and could not be scanned.")
TOO_MANY_MEMBERS: Final = N_("The archive has more than %(limit)s files; it was not scanned.")
TOO_DEEP: Final = N_(
    "Archives or attachments are nested more than %(limit)s levels deep; "
    "the inner ones were not scanned."
)
BOMB: Final = N_(
    "An archive member unpacks to far more than its packed size (a zip bomb?); it was not scanned."
)
MEMBER_TOO_LARGE: Final = N_("An archive member is larger than %(limit)s MiB; it was not scanned.")
BAD_EMAIL: Final = N_("The e-mail message could not be read; it was not scanned.")
EMAIL_TOO_LARGE: Final = N_("The e-mail message is larger than %(limit)s MiB; it was not scanned.")


def too_deep(job: Job) -> LimitError:
    return LimitError(Problem("too_deep", TOO_DEEP, {"limit": job.limits.max_depth}))


def check_zip(job: Job, archive: zipfile.ZipFile) -> None:
    """Refuse archives whose declared sizes already say they are bombs."""
    infos = archive.infolist()
    limits = job.limits
    if len(infos) > limits.max_members:
        raise LimitError(Problem("limit", TOO_MANY_MEMBERS, {"limit": limits.max_members}))
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > limits.max_member_bytes:
            raise LimitError(
                Problem("limit", MEMBER_TOO_LARGE, {"limit": limits.max_member_bytes // MiB})
            )
        if info.file_size > 1 * MiB and info.file_size > limits.max_ratio * max(
            info.compress_size, 1
        ):
            raise LimitError(Problem("zip_bomb", BOMB))
    if total > limits.max_total_bytes:
        raise LimitError(Problem("zip_bomb", BOMB))


def _spool(job: Job, source: IO[bytes], limit: int, problem: Problem) -> IO[bytes]:
    """Copy a member into a temporary file (memory up to 8 MiB), counting every byte."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 -- returned open
    reader = BoundedReader(source, limit, job, problem)
    while chunk := reader.read(MiB):
        spool.write(chunk)
    spool.seek(0)
    return spool


def scan_zip(
    job: Job, stream: IO[bytes], name: str, report: FileReport, out: IO[bytes] | None, depth: int
) -> None:
    from privault.scan.formats import scan_member

    report.format = "zip"
    if depth >= job.limits.max_depth:
        report.problems.append(too_deep(job).problem)
        return
    try:
        archive = zipfile.ZipFile(stream)
        check_zip(job, archive)
    except LimitError as exc:
        report.problems.append(exc.problem)
        return
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        report.problems.append(Problem("bad_zip", BAD_ZIP))
        return
    copy = zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) if out is not None else None
    with archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            member = f"{name}!{info.filename}"
            if info.flag_bits & 0x1:
                job.reports.append(FileReport(member, problems=[Problem("encrypted", ENCRYPTED)]))
                continue
            problem = Problem("zip_bomb", BOMB)
            try:
                with archive.open(info) as raw:
                    spooled = _spool(
                        job, raw, min(info.file_size, job.limits.max_member_bytes), problem
                    )
            except LimitError as exc:
                job.reports.append(FileReport(member, problems=[exc.problem]))
                if exc.problem.code == "limit":
                    break
                continue
            except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError):
                job.reports.append(FileReport(member, problems=[Problem("bad_zip", BAD_ZIP)]))
                continue
            with spooled:
                target = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) if copy else None  # noqa: SIM115 -- closed below
                written = scan_member(job, spooled, member, target, depth + 1)
                if copy is not None and target is not None and written:
                    target.seek(0)
                    with copy.open(info.filename, "w") as sink:
                        while chunk := target.read(MiB):
                            sink.write(chunk)
                if target is not None:
                    target.close()
    if copy is not None:
        copy.close()


def scan_eml(
    job: Job, stream: IO[bytes], name: str, report: FileReport, out: IO[bytes] | None, depth: int
) -> None:
    """Subject and text bodies are scanned here; attachments as files of their own."""
    from privault.scan.formats import scan_member

    report.format = "eml"
    limit = job.limits.max_structured_bytes
    data = stream.read(limit + 1)
    if len(data) > limit:
        report.problems.append(Problem("too_large", EMAIL_TOO_LARGE, {"limit": limit // MiB}))
        return
    try:
        message = email.message_from_bytes(data, policy=email.policy.default)
    except Exception:
        report.problems.append(Problem("bad_email", BAD_EMAIL))
        return
    assert isinstance(message, EmailMessage)
    subject = str(message.get("Subject", ""))
    if subject:
        message.replace_header("Subject", scan_string(job, subject, report, "subject"))
    for number, part in enumerate(message.walk()):
        if part.is_multipart():
            continue
        filename = part.get_filename()
        ctype = part.get_content_type()
        if filename is None and ctype in ("text/plain", "text/html"):
            try:
                body = part.get_content()
            except (LookupError, ValueError):
                body = part.get_payload(decode=True) or b""
                body = (
                    body.decode("utf-8", errors="replace") if isinstance(body, bytes) else str(body)
                )
            masked = scan_string(job, str(body), report, f"body part {number}")
            if out is not None:
                part.set_content(masked, subtype=ctype.split("/")[1])
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        if depth + 1 > job.limits.max_depth:
            report.problems.append(too_deep(job).problem)
            continue
        job.charge(len(payload))
        member = f"{name}!{filename or f'part-{number}'}"
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spooled:
            spooled.write(payload)
            spooled.seek(0)
            target = (
                tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 -- closed below
                if out is not None
                else None
            )
            written = scan_member(job, spooled, member, target, depth + 1)
            if target is not None:
                target.seek(0)
                if written:
                    part.set_content(
                        target.read(),
                        maintype=ctype.split("/")[0],
                        subtype=ctype.split("/")[1],
                        filename=filename,
                    )
                else:
                    part.set_content(
                        b"", maintype="application", subtype="octet-stream", filename=filename
                    )
                target.close()
    if out is not None:
        out.write(message.as_bytes())
