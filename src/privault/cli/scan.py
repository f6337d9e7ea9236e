"""``privault scan``: find personal data in files before they leave, and give a verdict.

Exact match against the vault needs the vault's blind indexes: the customer store is
the scanner's ``IndexSource`` and the vault's keyring its blinder.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from privault.cli.context import (
    JsonOption,
    LangOption,
    emit,
    principal,
    settings,
    state,
    vault_for,
)
from privault.errors import N_, InvalidInput
from privault.i18n import format_number, translator
from privault.policy.roles import require_compliance
from privault.runtime import recognisers_only
from privault.scan import BlockHandler, EgressVerdict, Recipient, ScanReport, scan_paths

DECISION_LABELS = {"allow": N_("ALLOW"), "redact": N_("REDACT"), "block": N_("BLOCK")}
COUNT_LINE = N_("Our customers in it: %(count)s")


def scan(
    ctx: typer.Context,
    paths: list[Path] = typer.Argument(..., help="Files or directories to scan."),
    recipient: str | None = typer.Option(
        None, "--recipient", help="The recipient: a principal or registered recipient."
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
    acting_as: str | None = typer.Option(
        None, "--as", help="Scan on behalf of this principal (the sender)."
    ),
    as_json: bool = JsonOption,
    lang: str = LangOption,
) -> None:
    """Scan files for personal data and say whether they may go to the recipient.

    The customers and fields found are put to the same decision a read gets: this
    sender, this recipient, this purpose, these customers' consent.  Every verdict is
    recorded in the audit trail before it is shown."""
    if recipient and external:
        raise InvalidInput(N_("Give either --recipient or --external, not both."))
    if acting_as:
        state(ctx).on_behalf_of = acting_as
    asker = principal(ctx)
    with vault_for(ctx) as vault:
        handlers: list[BlockHandler] = []
        # --no-match: the recognisers alone decide; the verdict is still recorded.
        scanner = recognisers_only(settings(ctx)) if no_match else vault.scanner()
        if no_incident:
            # R7: only compliance may scan without the incident hook.
            require_compliance(vault.effective_policy(), asker.removeprefix("cli:"))
        handlers.append(vault.block_handler(asker, open_incident=not no_incident))
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
            policy=vault.egress,
            asker=asker,
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
        if isinstance(verdict, EgressVerdict):
            for item in verdict.ruling.fields if verdict.ruling else ():
                mark = "✓" if item.allowed and not item.refused else "✗"
                console.print(
                    f"    {mark} {item.field}: {format_number(item.released, lang)} / "
                    f"{format_number(item.released + item.refused, lang)}"
                )
                for why in item.reasons:
                    console.print(f"        {why.render(lang)}")
            for action in verdict.actions:
                console.print(f"  → {action.to_dict(lang)['message']}")
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
