"""``privault customers``: import and count.  No plaintext read here by design: data leaves
the vault only through the access gate (a later slice)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from privault.cli.context import JsonOption, emit, settings
from privault.cli.progress import bytes_progress
from privault.customers.importer import import_csv
from privault.errors import N_, InvalidInput
from privault.runtime import open_vault

app = typer.Typer(no_args_is_help=True)

MAX_SHOWN_ERRORS = 50


@app.command("import")
def import_command(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="CSV file with a header of field names."),
    collected_for: list[str] = typer.Option(
        ..., "--collected-for", help="Purpose(s) the data was collected for (Fides data-use key)."
    ),
    require: list[str] = typer.Option(
        ["last_name"], "--require", help="Columns that must be present and non-empty."
    ),
    encoding: str = typer.Option("utf-8", "--encoding", help="Text encoding of the file."),
    as_json: bool = JsonOption,
) -> None:
    """Import customers from CSV; invalid rows are reported by line and not stored."""
    vault = open_vault(settings(ctx))
    try:
        for purpose in collected_for:
            vault.taxonomy.require_use(purpose)
        for name in require:
            vault.catalog.require(name)
        if not file.is_file():
            raise InvalidInput(N_("No such file: %(path)s"), path=str(file))
        with bytes_progress(file.stat().st_size, f"Importing {file.name}", quiet=as_json) as tick:
            report = import_csv(
                vault.customers,
                file,
                collected_for=collected_for,
                required=require,
                encoding=encoding,
                progress=tick,
            )
    finally:
        vault.close()
    result = {
        "file": str(file),
        "accepted": report.accepted,
        "rejected": report.rejected,
        "errors": [{"line": e.line, "reasons": list(e.reasons)} for e in report.errors],
    }

    def render(out: Console) -> None:
        out.print(f"Imported {report.accepted} customers; rejected {report.rejected} rows.")
        for error in report.errors[:MAX_SHOWN_ERRORS]:
            out.print(f"  line {error.line}: {'; '.join(error.reasons)}")
        if report.rejected > MAX_SHOWN_ERRORS:
            out.print(f"  ... and {report.rejected - MAX_SHOWN_ERRORS} more (use --json for all)")

    emit(result, as_json, render)
    if report.rejected:
        raise typer.Exit(3)


@app.command("count")
def count_command(ctx: typer.Context, as_json: bool = JsonOption) -> None:
    """How many customers the vault holds (erased customers not counted)."""
    vault = open_vault(settings(ctx))
    try:
        count = vault.customers.count()
    finally:
        vault.close()
    emit({"customers": count}, as_json, lambda out: out.print(str(count)))
