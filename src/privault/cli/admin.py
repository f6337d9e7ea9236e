"""``privault init``, ``upgrade``, ``demo`` and ``fields``: setting a vault up and looking at it."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from privault.audit import acting
from privault.catalog.verifications import record_verification
from privault.cli.context import (
    JsonOption,
    LangOption,
    emit,
    operator,
    principal,
    settings,
    vault_for,
)
from privault.cli.progress import bytes_progress
from privault.demo.generator import write_csv
from privault.demo.scenario import MARKETING, play_s1, seed_consents
from privault.errors import N_, ConfigError, InvalidInput
from privault.i18n import translator
from privault.incidents.detectors import DEMO_SETUP
from privault.runtime import initialise, upgrade_vault

fields_app = typer.Typer(no_args_is_help=True)

DEMO_STORED = N_(
    "%(customers)s customers stored, every field sealed under the customer's own key; "
    "%(consented)s agreed to marketing e-mails, %(objected)s objected to marketing."
)
DEMO_S1 = N_("S1: a colleague wants the customers' e-mail list to market a new service.")
DEMO_STEP1 = N_(
    "1. ayesha.khan (marketing) exports e-mails for marketing: %(included)s customers who "
    "agreed are included; left out: %(excluded)s."
)
DEMO_STEP2 = N_(
    "2. jana.dvorakova (customer service, ten years in the company) asks for the same list "
    "for marketing: refused."
)
DEMO_STEP3 = N_("3. jana.dvorakova hands the service list over to her friend tomas.kral: refused.")
DEMO_STEP4_OK = N_("4. The audit trail holds %(entries)s entries and verifies intact.")
DEMO_STEP4_BROKEN = N_("4. The audit trail (%(entries)s entries) does NOT verify.")
DEMO_TRY = N_("Try it yourself:")


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("upgrade")(upgrade_command)
    app.command("demo")(demo)
    app.add_typer(fields_app, name="fields", help="Customer fields and their classification (R5).")


def init(ctx: typer.Context, as_json: bool = JsonOption) -> None:
    """Create the data directory, a new key file (owner-only) and the database schema."""
    result = initialise(settings(ctx), actor=principal(ctx))

    def render(out: Console) -> None:
        out.print(f"Initialised privault in {result['home']} ({result['database']}).")
        if result["key_file"]:
            out.print(f"Key file: {result['key_file']} (mode 600 -- back it up separately).")

    emit(result, as_json, render)


def upgrade_command(ctx: typer.Context, as_json: bool = JsonOption) -> None:
    """Apply pending database migrations."""
    result = upgrade_vault(settings(ctx), actor=principal(ctx))
    after, before = result["to_revision"], result["from_revision"]
    emit(result, as_json, lambda out: out.print(f"Schema at revision {after} (was {before})."))


def demo(
    ctx: typer.Context,
    customers: int = typer.Option(3000, "--customers", min=1, max=2_000_000, help="How many."),
    seed: int = typer.Option(2026, "--seed", help="Random seed (same seed, same data)."),
    lang: str = LangOption,
    as_json: bool = JsonOption,
) -> None:
    """Initialise a vault if needed and load a generated demo data set into it."""
    config = settings(ctx)
    if not (config.key_provider == "file" and config.effective_key_file.exists()):
        initialise(config, actor=principal(ctx))
    with vault_for(ctx) as vault:
        if vault.customers.count() > 0:
            raise ConfigError(
                N_("This vault already holds customers; use a fresh --home for the demo.")
            )
        demo_dir = config.home / "demo"
        demo_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        csv_path = write_csv(demo_dir / "customers.csv", customers, seed)
        with bytes_progress(
            csv_path.stat().st_size, "Importing demo customers", quiet=as_json
        ) as tick:
            report = vault.importer(
                csv_path, actor=principal(ctx), collected_for=["essential.service"], progress=tick
            )
        csv_path.unlink()  # the plaintext copy is not kept: the vault holds the data now
        seeded = seed_consents(vault, seed=seed)
        # The S1 story is a stage play, not people reading data: its decisions are
        # stamped as done for the demo set-up, which the detectors leave alone.
        with acting(operator(), DEMO_SETUP):
            story = play_s1(vault, lang)
        result = {
            "home": str(config.home),
            "customers": vault.customers.count(),
            "imported": report.accepted,
            "rejected": report.rejected,
            "consented_to_marketing": seeded.consented,
            "objected_to_marketing": seeded.objected,
            "s1": story,
        }

    def render(out: Console) -> None:
        say = translator(lang).gettext
        exported = story["marketing_export"]
        out.print(f"[bold]privault demo[/] {result['home']}")
        out.print(
            say(DEMO_STORED)
            % {
                "customers": result["customers"],
                "consented": seeded.consented,
                "objected": seeded.objected,
            }
        )
        out.print()
        out.print(say(DEMO_S1))
        out.print(
            say(DEMO_STEP1)
            % {
                "included": exported["included"],
                "excluded": ", ".join(f"{k}: {v}" for k, v in exported["excluded"].items()) or "-",
            }
        )
        for step, title in (
            ("customer_service_asks_for_marketing", DEMO_STEP2),
            ("hand_over_to_friend", DEMO_STEP3),
        ):
            out.print(say(title), markup=False)
            out.print(story[step].get("explanation", ""), markup=False)
        audit = story["audit"]
        out.print(
            say(DEMO_STEP4_OK if audit["ok"] else DEMO_STEP4_BROKEN) % {"entries": audit["entries"]}
        )
        out.print()
        out.print(say(DEMO_TRY), markup=False)
        out.print(
            f"  privault policy explain --principal jana.dvorakova --purpose {MARKETING} "
            f"--field email --action export --lang {lang}",
            markup=False,
        )

    emit(result, as_json, render)


@fields_app.command("list")
def fields_list(ctx: typer.Context, as_json: bool = JsonOption) -> None:
    """The customer fields: category, kind, collection purposes, searchable, classification."""
    with vault_for(ctx) as vault:
        definitions = list(vault.catalog)
        rows = [
            {
                "name": f.name,
                "category": f.category,
                "kind": f.kind,
                "collected_for": list(f.collected_for),
                "searchable": f.searchable,
                "classification": f.classification,
                "verified_by": f.verification.verified_by if f.verification else None,
                "verified_at": f.verification.verified_at.isoformat() if f.verification else None,
            }
            for f in vault.catalog
        ]

    def render(out: Console) -> None:
        table = Table("field", "category", "collected for", "searchable", "classification")
        for definition in definitions:
            table.add_row(
                definition.name,
                definition.category,
                ", ".join(definition.collected_for),
                "yes" if definition.searchable else "",
                definition.classification,
            )
        out.print(table)

    emit(rows, as_json, render)


@fields_app.command("verify")
def fields_verify(
    ctx: typer.Context,
    field: str = typer.Argument(..., help="Field name."),
    classification: str = typer.Option(..., "--classification", help="public or confidential."),
    verified_by: str = typer.Option(..., "--by", help="Who verified it."),
    reason: str = typer.Option(..., "--reason", help="Why (at least 10 characters)."),
    as_json: bool = JsonOption,
) -> None:
    """Record a verification of a field's classification (R5): who, when, why."""
    if classification not in ("public", "confidential"):
        raise InvalidInput(N_("Classification must be 'confidential' or 'public'."))
    with vault_for(ctx) as vault:
        verification = record_verification(
            vault.engine,
            vault.catalog,
            vault.audit,
            field=field,
            classification="public" if classification == "public" else "confidential",
            verified_by=verified_by,
            reason=reason,
            actor=principal(ctx),
        )
    result = {
        "field": field,
        "classification": verification.classification,
        "verified_by": verification.verified_by,
        "verified_at": verification.verified_at.isoformat(),
        "reason": verification.reason,
    }
    emit(result, as_json, lambda out: out.print(f"{field} is now {classification} (recorded)."))
