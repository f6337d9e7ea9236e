"""``privault customers``: import, count and find.  No plaintext is read here: data leaves
the vault only through the access gate; ``find`` answers with public ids only."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from privault.cli.context import JsonOption, emit, principal, vault_for
from privault.cli.progress import bytes_progress
from privault.errors import N_, InvalidInput

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
    with vault_for(ctx) as vault:
        for purpose in collected_for:
            vault.taxonomy.require_use(purpose)
        for name in require:
            vault.catalog.require(name)
        if not file.is_file():
            raise InvalidInput(N_("No such file: %(path)s"), path=str(file))
        with bytes_progress(file.stat().st_size, f"Importing {file.name}", quiet=as_json) as tick:
            report = vault.importer(
                file,
                actor=principal(ctx),
                collected_for=collected_for,
                required=require,
                encoding=encoding,
                progress=tick,
            )
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
    with vault_for(ctx) as vault:
        count = vault.customers.count()
    emit({"customers": count}, as_json, lambda out: out.print(str(count)))


@app.command("find")
def find_command(
    ctx: typer.Context,
    email: str | None = typer.Option(None, "--email", help="An e-mail address."),
    phone: str | None = typer.Option(None, "--phone", help="A phone number."),
    as_json: bool = JsonOption,
) -> None:
    """Which customers have this e-mail or phone (public ids only; audited as a lookup)."""
    if (email is None) == (phone is None):
        raise InvalidInput(N_("Give exactly one of email or phone."))
    field, value = ("email", email) if email is not None else ("phone", phone)
    assert value is not None
    with vault_for(ctx) as vault:
        found = vault.gate.find_ids(principal(ctx), field, value)
    rows = [{"customer": public_id} for public_id in found]

    def render(out: Console) -> None:
        out.print("\n".join(r["customer"] for r in rows) or "no customer found")

    emit(rows, as_json, render)
