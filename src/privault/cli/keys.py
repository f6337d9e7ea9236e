"""``privault keys``: master key status, rotation and retirement."""

from __future__ import annotations

import typer
from rich.console import Console

from privault.cli.context import JsonOption, emit, principal, vault_for
from privault.cli.progress import count_progress
from privault.customers.rotation import keys_by_version

app = typer.Typer(no_args_is_help=True)


@app.command("status")
def status(ctx: typer.Context, as_json: bool = JsonOption) -> None:
    """Master key versions and how many data keys each one wraps."""
    with vault_for(ctx) as vault:
        active = vault.keyring.active_version
        versions = list(vault.keyring.master_versions)
        counts = {str(k): v for k, v in keys_by_version(vault.engine).items()}
    result = {"active_version": active, "versions": versions, "data_keys_by_version": counts}

    def render(out: Console) -> None:
        out.print(f"active master key version: {active}")
        for version in versions:
            out.print(f"  v{version}: {counts.get(str(version), 0)} data keys")

    emit(result, as_json, render)


@app.command("rotate")
def rotate_command(ctx: typer.Context, as_json: bool = JsonOption) -> None:
    """Create a new master key version and re-wrap every data key under it."""
    with vault_for(ctx) as vault:
        total = vault.customers.count(include_erased=False)
        with count_progress(total, "Re-wrapping data keys", quiet=as_json) as tick:
            report = vault.rotate_master_key(tick, actor=principal(ctx))
    result = {
        "new_version": report.new_version,
        "rewrapped": report.rewrapped,
        "data_keys_by_version": {str(k): v for k, v in report.remaining_by_version.items()},
    }
    emit(
        result,
        as_json,
        lambda out: out.print(
            f"Master key v{report.new_version} is active; {report.rewrapped} data keys re-wrapped."
        ),
    )


@app.command("retire")
def retire_command(
    ctx: typer.Context,
    version: int = typer.Argument(..., help="The old master key version to remove."),
    as_json: bool = JsonOption,
) -> None:
    """Remove an old master key version once no data key depends on it."""
    with vault_for(ctx) as vault:
        vault.retire_master_key(version, actor=principal(ctx))
    emit({"retired": version}, as_json, lambda out: out.print(f"Master key v{version} retired."))
