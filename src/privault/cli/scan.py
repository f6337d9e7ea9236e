"""``privault scan``: find personal data in files before they leave, and give a verdict.

Exact match against the vault needs the vault's blind indexes: the customer store is
the scanner's ``IndexSource`` and the vault's keyring its blinder.
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import typer
from rich.console import Console

from privault.cli.context import JsonOption, LangOption, emit, principal, settings, vault_for
from privault.errors import N_, InvalidInput
from privault.i18n import format_number, translator
from privault.policy.roles import require_compliance
from privault.runtime import recognisers_only
from privault.scan import BlockHandler, Recipient, ScanReport, scan_paths

DECISION_LABELS = {"allow": N_("ALLOW"), "redact": N_("REDACT"), "block": N_("BLOCK")}
COUNT_LINE = N_("Our customers in it: %(count)s")


def scan(
    ctx: typer.Context,
    paths: list[Path] = typer.Argument(..., help="Files or directories to scan."),
    recipient: str | None = typer.Option(
        None, "--recipient", help="An internal recipient (principal)."
    ),
    external: str | None = typer.Option(None, "--external", help="An external e-mail address."),
    purpose: str | None = typer.Option(
        None, "--purpose", help="Purpose key, e.g. essential.service."
    ),
    redact: Path | None = typer.Option(None, "--redact", help="Write a masked copy here."),
    no_match: bool = typer.Option(False, "--no-match", help="Do not match against our customers."),
    no_incident: bool = typer.Option(
        False,
        "--no-incident",
        help="Compliance only: do not open an incident when the verdict is block.",
    ),
    as_json: bool = JsonOption,
    lang: str = LangOption,
) -> None:
    """Scan files for personal data and say whether they may go to the recipient."""
    if recipient and external:
        raise InvalidInput(N_("Give either --recipient or --external, not both."))
    # One vault serves the exact match (its blind indexes and key) and the incident
    # hook; without either, scanning needs no vault at all.
    with ExitStack() as stack:
        handlers: list[BlockHandler] = []
        if no_match:
            scanner = recognisers_only(settings(ctx))
        else:
            vault = stack.enter_context(vault_for(ctx))
            if no_incident:
                # R7: only compliance may scan without the incident hook.
                require_compliance(vault.effective_policy(), principal(ctx).removeprefix("cli:"))
            scanner = vault.scanner()
            handlers.append(vault.block_handler(principal(ctx), open_incident=not no_incident))
        target = (
            Recipient(name=recipient)
            if recipient
            else Recipient(address=external)
            if external
            else None
        )
        report = scan_paths(
            paths,
            scanner,
            recipient=target,
            purpose=purpose,
            redact_to=redact,
            block_handlers=handlers,
        )
    emit(report.to_dict(lang), as_json, lambda console: _render(console, report, lang))
    if report.verdict is not None and report.verdict.decision != "allow":
        raise typer.Exit(3 if report.verdict.decision == "block" else 0)


def _render(console: Console, report: ScanReport, lang: str) -> None:
    tr = translator(lang)
    verdict = report.verdict
    if verdict is not None:
        colour = {"allow": "green", "redact": "yellow", "block": "red"}[verdict.decision]
        console.print(f"[bold {colour}]{tr.gettext(DECISION_LABELS[verdict.decision])}[/]")
        for reason in verdict.reasons:
            console.print(f"  • {reason.render(lang)}")
    if report.matches.customers:
        console.print(
            tr.gettext(COUNT_LINE) % {"count": format_number(report.matches.customers, lang)}
        )
    for file in report.files:
        counts = ", ".join(
            f"{entity} {format_number(n, lang)}" for entity, n in sorted(file.counts.items())
        )
        console.print(f"{file.path}: {counts or '-'}")
        for column, entity in file.columns.items():
            console.print(f"    {column} → {entity}")
        for problem in file.problems:
            console.print(f"    [yellow]! {problem.render(lang)}[/]")
