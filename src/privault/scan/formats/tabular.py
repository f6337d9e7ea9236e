"""CSV/TSV and XLSX, column-aware: a column that is mostly e-mails is reported as such.

Each cell is scanned as one value with its column header as context, so a column
called ``telefon`` lends its phone numbers the context word they lack, and a cell
that is exactly a customer's name matches the name index.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any, Final

from privault.errors import N_
from privault.scan.formats.base import Job, LimitError, mask
from privault.scan.formats.text import decoded_chunks, lines, open_text
from privault.scan.model import FileReport, Problem

COLUMN_SHARE: Final[float] = 0.5  # share of non-empty cells that makes a column "of" an entity
BAD_CSV: Final = N_("The file is not valid CSV near row %(row)s; the rest was not scanned.")
BAD_XLSX: Final = N_("The spreadsheet is damaged or not an XLSX file; it was not scanned.")
TOO_MANY_CELLS: Final = N_(
    "The spreadsheet has more than %(limit)s cells; the rest was not scanned."
)


class _Columns:
    """Per-column tallies, to say which columns hold which kind of data."""

    def __init__(self) -> None:
        self.filled: Counter[int] = Counter()
        self.entities: dict[int, Counter[str]] = {}

    def add(self, column: int, entities: Iterable[str]) -> None:
        self.filled[column] += 1
        for entity in set(entities):
            self.entities.setdefault(column, Counter())[entity] += 1

    def summary(self, header: Sequence[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for column, counts in sorted(self.entities.items()):
            entity, count = counts.most_common(1)[0]
            if count >= COLUMN_SHARE * self.filled[column]:
                name = (
                    header[column] if column < len(header) and header[column] else f"#{column + 1}"
                )
                out[name] = entity
        return out


def _looks_like_header(row: Sequence[str], job: Job) -> bool:
    return bool(row) and all(
        cell.strip() and not any(ch.isdigit() for ch in cell) and not job.scanner.analyze(cell)
        for cell in row
    )


def _scan_rows(job: Job, rows: Iterator[list[str]], report: FileReport) -> Iterator[list[str]]:
    """Scan rows, yield them masked; the first row is taken as a header if it looks like one."""
    columns = _Columns()
    header: list[str] = []
    for number, row in enumerate(rows, start=1):
        if number == 1 and _looks_like_header(row, job):
            header = row
            report.characters += sum(len(c) for c in row)
            yield row
            continue
        masked: list[str] = []
        for column, cell in enumerate(row):
            report.characters += len(cell)
            if not cell.strip():
                masked.append(cell)
                continue
            label = header[column] if column < len(header) else f"#{column + 1}"
            findings = job.scanner.analyze(
                cell,
                context=label,
                whole_value=True,
                tally=job.tally,
                where=f"row {number}, column {label}",
            )
            columns.add(column, (f.entity for f in findings))
            job.add_findings(report, findings)
            masked.append(mask(cell, findings))
        yield masked
    report.columns = columns.summary(header)


def scan_csv(
    job: Job, stream: IO[bytes], name: str, report: FileReport, out: IO[bytes] | None, depth: int
) -> None:
    report.format = "tsv" if name.lower().endswith((".tsv", ".tab")) else "csv"
    opened = open_text(stream, report)
    if opened is None:
        return
    head, encoding = opened
    sample = head[:16384].decode(encoding, errors="replace")
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel_tab if report.format == "tsv" else csv.excel
    reader = csv.reader(lines(decoded_chunks(head, stream, encoding)), dialect)
    writer = None
    if out is not None:
        text_out = io.TextIOWrapper(
            out,
            encoding="utf-8" if "utf" in encoding else encoding,
            errors="replace",
            newline="",
            write_through=True,
        )
        writer = csv.writer(text_out, dialect)
    try:
        for row in _scan_rows(job, reader, report):
            if writer is not None:
                writer.writerow(row)
    except csv.Error:
        report.problems.append(Problem("bad_csv", BAD_CSV, {"row": reader.line_num}))
    except LimitError as exc:
        report.problems.append(exc.problem)
    if out is not None:
        text_out.detach()


def scan_xlsx(
    job: Job, stream: IO[bytes], name: str, report: FileReport, out: IO[bytes] | None, depth: int
) -> None:
    """Read-only openpyxl: rows stream from the sheet XML, never the whole workbook."""
    import zipfile

    from openpyxl import Workbook, load_workbook

    from privault.scan.formats.containers import check_zip

    report.format = "xlsx"
    try:
        with zipfile.ZipFile(stream) as archive:
            check_zip(job, archive)
        stream.seek(0)
        book = load_workbook(stream, read_only=True, data_only=True)
    except LimitError as exc:
        report.problems.append(exc.problem)
        return
    except Exception:  # openpyxl raises many types for damaged files
        report.problems.append(Problem("bad_xlsx", BAD_XLSX))
        return
    copy = Workbook(write_only=True) if out is not None else None
    cells = 0
    try:
        for sheet in book.worksheets:
            target = copy.create_sheet(sheet.title) if copy is not None else None
            rows = (
                [("" if v is None else str(v)) for v in row]
                for row in sheet.iter_rows(values_only=True)
            )
            sheet_report = FileReport(path=f"{name}!{sheet.title}")
            for row in _scan_rows(job, rows, sheet_report):
                cells += len(row)
                if cells > job.limits.max_cells:
                    raise LimitError(
                        Problem("limit", TOO_MANY_CELLS, {"limit": job.limits.max_cells})
                    )
                if target is not None:
                    target.append(row)
            _merge(report, sheet_report, job, sheet.title)
    except LimitError as exc:
        report.problems.append(exc.problem)
    except Exception:
        report.problems.append(Problem("bad_xlsx", BAD_XLSX))
    finally:
        book.close()
    if copy is not None and out is not None:
        copy.save(out)


def _merge(report: FileReport, sheet: FileReport, job: Job, title: str) -> None:
    report.characters += sheet.characters
    report.counts.update(sheet.counts)
    report.matched += sheet.matched
    room = job.limits.max_listed_findings - len(report.findings)
    report.findings.extend(sheet.findings[: max(room, 0)])
    report.findings_dropped += sheet.findings_dropped + max(0, len(sheet.findings) - max(room, 0))
    for column, entity in sheet.columns.items():
        report.columns[f"{title}!{column}"] = entity
