"""``privault audit``: verify, export, checkpoint and list the tamper-evident trail.

``verify --from DIR`` needs no database and no key file: it is what an auditor runs on
an export.  ``verify`` exits 1 when the chain is broken and names the first bad entry.
"""

from __future__ import annotations

import binascii
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from privault.audit import ChainedEntry, VerifyReport, actor_of, verify_export
from privault.cli.context import JsonOption, LangOption, emit, vault_for
from privault.errors import N_, InvalidInput
from privault.i18n import LANGUAGES, format_number, translator

app = typer.Typer(no_args_is_help=True)

INTACT = N_("The audit trail is intact: %(entries)s entries, %(checkpoints)s signed checkpoints.")
BROKEN = N_("The audit trail is BROKEN at entry %(seq)s (%(reason)s).")
NO_CHECKPOINT = N_(
    "There is no signed checkpoint yet, so removing the newest entries would go unnoticed; "
    "run 'privault audit checkpoint'."
)
UNPINNED = N_(
    "Checkpoints were signed with key %(keys)s. Compare it with the vault's published key, "
    "or pass it with --public-key."
)
EXPORTED = N_("Exported %(entries)s entries and %(checkpoints)s checkpoints to %(path)s.")
CHECKPOINTED = N_("Signed a checkpoint at entry %(seq)s.")
BAD_KEY = N_("The public key must be 64 hexadecimal characters (a raw Ed25519 key).")
BAD_LANG = N_("Unsupported language '%(lang)s'; use en, cs or ur.")


def _language(lang: str) -> str:
    if lang not in LANGUAGES:
        raise InvalidInput(BAD_LANG, lang=lang)
    return lang


def _public_key(value: str | None) -> set[bytes] | None:
    if value is None:
        return None
    try:
        key = binascii.unhexlify(value.strip())
    except (binascii.Error, ValueError):
        raise InvalidInput(BAD_KEY) from None
    if len(key) != 32:
        raise InvalidInput(BAD_KEY)
    return {key}


def _report_lines(report: VerifyReport, lang: str, pinned: bool) -> list[tuple[str, str]]:
    """(style, sentence) pairs for people, in ``lang``."""
    _ = translator(lang).gettext
    if report.problem is not None:
        return [
            (
                "bold red",
                _(BROKEN) % {"seq": report.problem.seq, "reason": report.problem.reason.value},
            ),
            ("red", report.problem.message(lang)),
        ]
    lines = [
        (
            "bold green",
            _(INTACT)
            % {
                "entries": format_number(report.entries, lang),
                "checkpoints": format_number(report.checkpoints, lang),
            },
        )
    ]
    if report.last_checkpoint is None and report.entries:
        lines.append(("yellow", _(NO_CHECKPOINT)))
    if not pinned and report.public_keys:
        lines.append(("yellow", _(UNPINNED) % {"keys": ", ".join(report.public_keys)}))
    return lines


@app.command("verify")
def verify_command(
    ctx: typer.Context,
    source: Path | None = typer.Option(
        None, "--from", help="Verify an export directory instead of the database."
    ),
    public_key: str | None = typer.Option(
        None, "--public-key", help="Trusted checkpoint key (hex); pins it for --from."
    ),
    lang: str = LangOption,
    as_json: bool = JsonOption,
) -> None:
    """Check the whole chain; exit 1 and name the first bad entry if it was tampered with."""
    lang = _language(lang)
    trusted = _public_key(public_key)
    if source is not None:
        report = verify_export(source, trusted)
        pinned = trusted is not None
    else:
        with vault_for(ctx) as vault:
            report = vault.audit.verify(trusted)
        pinned = True
    lines = _report_lines(report, lang, pinned)
    data: dict[str, Any] = {**report.as_json(), "messages": [text for _, text in lines]}
    if report.problem is not None:
        data["problem"]["message"] = report.problem.message(lang)

    def render(out: Console) -> None:
        for style, text in lines:
            out.print(f"[{style}]{escape(text)}[/]")

    emit(data, as_json, render)
    if not report.ok:
        raise typer.Exit(1)


@app.command("export")
def export_command(
    ctx: typer.Context,
    directory: Path = typer.Argument(..., help="A new or empty directory."),
    no_checkpoint: bool = typer.Option(
        False, "--no-checkpoint", help="Do not sign the current head before exporting."
    ),
    lang: str = LangOption,
    as_json: bool = JsonOption,
) -> None:
    """Write entries, checkpoints and the public key for an auditor (verify --from DIR)."""
    lang = _language(lang)
    with vault_for(ctx) as vault:
        report = vault.audit.export(directory, checkpoint=not no_checkpoint)
    text = translator(lang).gettext(EXPORTED) % {
        "entries": format_number(report.entries, lang),
        "checkpoints": format_number(report.checkpoints, lang),
        "path": report.directory,
    }
    emit({**report.as_json(), "message": text}, as_json, lambda out: out.print(escape(text)))


@app.command("checkpoint")
def checkpoint_command(
    ctx: typer.Context, lang: str = LangOption, as_json: bool = JsonOption
) -> None:
    """Sign the current chain head now (also done automatically every N entries)."""
    lang = _language(lang)
    with vault_for(ctx) as vault:
        made = vault.audit.checkpoint()
    text = translator(lang).gettext(CHECKPOINTED) % {"seq": made.seq}
    emit({**made.as_json(), "message": text}, as_json, lambda out: out.print(escape(text)))


def _row(chained: ChainedEntry) -> dict[str, Any]:
    """An entry for ``audit list --json``: its body, with who acted and for whom."""
    body = chained.entry.as_json(chained.seq)
    actor, on_behalf_of = actor_of(body)
    return {**body, "actor": actor, "on_behalf_of": on_behalf_of, "hash": chained.hash.hex()}


@app.command("list")
def list_command(
    ctx: typer.Context,
    limit: int = typer.Option(20, "--limit", min=1, max=10_000, help="How many, newest first."),
    before: int | None = typer.Option(None, "--before", min=1, help="Entries before this one."),
    as_json: bool = JsonOption,
) -> None:
    """The newest entries: who, purpose, action, outcome -- names and counts, never data."""
    with vault_for(ctx) as vault:
        chained = vault.audit.entries(limit=limit, before=before)
    rows = [_row(c) for c in chained]

    def render(out: Console) -> None:
        table = Table(
            "seq",
            "at (UTC)",
            "kind",
            "principal",
            "purpose",
            "action",
            "outcome",
            "fields",
            "customers / counts",
            "reasons",
        )
        for r in rows:
            counts = " ".join(f"{k}={v}" for k, v in sorted(r["counts"].items()))
            customers = ", ".join(r["subjects"][:3]) + (" ..." if len(r["subjects"]) > 3 else "")
            table.add_row(
                str(r["seq"]),
                r["at"][:19].replace("T", " "),
                r["kind"],
                escape(r["principal"]),
                r["purpose"] or "",
                r["action"],
                r["outcome"],
                ", ".join(r["fields"]),
                " ".join(filter(None, (customers, counts))),
                ", ".join(r["reasons"]),
            )
        out.print(table)

    emit(rows, as_json, render)
