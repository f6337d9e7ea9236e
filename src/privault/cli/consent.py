"""``privault consent``: notices, the ledger, objections, restrictions, proof, requests.

Customers are named by internal id or public id (``cus_...``).  Output carries ids,
purposes, notice texts and counts -- never a customer's data.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from privault.audit import AuditEntry, Kind, Outcome
from privault.cli.context import JsonOption, emit, principal, vault_for
from privault.consent.flows import request_consent
from privault.consent.schemas import LedgerEntry, Notice, NoticeDraft
from privault.consent.service import ConsentService
from privault.documents import load_yaml_model
from privault.errors import N_, InvalidInput

app = typer.Typer(no_args_is_help=True)
notice_app = typer.Typer(no_args_is_help=True)
app.add_typer(notice_app, name="notice", help="Privacy notices (versioned, en/cs/ur).")

CustomerArg = typer.Argument(..., help="Customer id or public id (cus_...).")
PurposeOption = typer.Option(..., "--purpose", help="Purpose (Fides data-use key).")
RecipientOption = typer.Option(
    None, "--recipient", help="External recipient (only for third_party_sharing)."
)
ChannelOption = typer.Option(
    "phone", "--channel", help="How the customer told us: web, phone, paper, api, import."
)
ActorOption = typer.Option(..., "--by", help="Who records this.")
NoticeFileArg = typer.Argument(..., help="YAML: key, purposes, recipient, title/text en|cs|ur.")
OutOption = typer.Option(
    None, "--out", help="Write a CSV (owner-only) for the company's mailer instead."
)


def _notice_json(notice: Notice) -> dict[str, Any]:
    return {
        "id": notice.id,
        "key": notice.key,
        "version": notice.version,
        "purposes": list(notice.purposes),
        "recipient": notice.recipient,
        "expiry_months": notice.expiry_months,
        "title": dict(notice.titles),
        "text": dict(notice.texts),
        "created_at": notice.created_at.isoformat(),
        "created_by": notice.created_by,
    }


def _entry_json(entry: LedgerEntry) -> dict[str, Any]:
    return {
        "event_id": entry.event_id,
        "action": entry.action,
        "purpose": entry.purpose,
        "recipient": entry.recipient,
        "channel": entry.channel,
        "occurred_at": entry.occurred_at.isoformat(),
        "recorded_at": entry.recorded_at.isoformat(),
        "actor": entry.actor,
        "evidence_sha256": entry.evidence_hash,
        "notice": _notice_json(entry.notice) if entry.notice is not None else None,
    }


def _parse_notice_ref(service: ConsentService, ref: str) -> Notice:
    key, _, version = ref.partition(":")
    if version and not version.isdigit():
        raise InvalidInput(N_("Name a notice as KEY or KEY:VERSION."))
    return service.notice(key, int(version) if version else None)


@notice_app.command("add")
def notice_add(
    ctx: typer.Context,
    file: Path = NoticeFileArg,
    created_by: str = ActorOption,
    as_json: bool = JsonOption,
) -> None:
    """Add a notice, or a new version of one (same key)."""
    draft = load_yaml_model(file, NoticeDraft, error=InvalidInput)
    with vault_for(ctx) as vault:
        notice = vault.consent.add_notice(draft, created_by=created_by)
    emit(
        _notice_json(notice),
        as_json,
        lambda out: out.print(f"Notice {notice.key} version {notice.version} added."),
    )


@notice_app.command("list")
def notice_list(
    ctx: typer.Context,
    all_versions: bool = typer.Option(False, "--all", help="Every version, not only the latest."),
    as_json: bool = JsonOption,
) -> None:
    """The notices customers are shown (latest versions) or every version."""
    with vault_for(ctx) as vault:
        notices = vault.consent.notices(current_only=not all_versions)

    def render(out: Console) -> None:
        table = Table("key", "version", "purposes", "recipient", "expiry (months)", "title")
        for n in notices:
            table.add_row(
                n.key,
                str(n.version),
                " ".join(n.purposes),
                n.recipient or "",
                str(n.expiry_months or ""),
                n.title("en"),
            )
        out.print(table)

    emit([_notice_json(n) for n in notices], as_json, render)


def _record(
    ctx: typer.Context,
    action: str,
    customer: str,
    purpose: str,
    recipient: str | None,
    notice_ref: str | None,
    channel: str,
    actor: str,
    evidence: str | None,
    as_json: bool,
) -> None:
    with vault_for(ctx) as vault:
        service = vault.consent
        ref = service.resolve_customer(customer)
        notice = _parse_notice_ref(service, notice_ref) if notice_ref else None
        entry = service.record(
            ref.id,
            purpose,
            "grant" if action == "grant" else "withdraw",
            notice=notice,
            channel=channel,
            actor=actor,
            recipient=recipient,
            evidence=evidence,
        )
    result = {"customer": ref.public_id, **_entry_json(entry)}
    emit(
        result,
        as_json,
        lambda out: out.print(
            f"Recorded {action} of {purpose} for {ref.public_id} (event {entry.event_id})."
        ),
    )


@app.command("grant")
def grant(
    ctx: typer.Context,
    customer: str = CustomerArg,
    purpose: str = PurposeOption,
    notice: str = typer.Option(..., "--notice", help="Notice shown: KEY or KEY:VERSION."),
    recipient: str | None = RecipientOption,
    channel: str = ChannelOption,
    actor: str = ActorOption,
    evidence: str | None = typer.Option(
        None, "--evidence", help="Evidence (e.g. a call reference); only its SHA-256 is kept."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Record that the customer gave consent, under the notice they were shown."""
    _record(ctx, "grant", customer, purpose, recipient, notice, channel, actor, evidence, as_json)


@app.command("withdraw")
def withdraw(
    ctx: typer.Context,
    customer: str = CustomerArg,
    purpose: str = PurposeOption,
    notice: str | None = typer.Option(None, "--notice", help="KEY or KEY:VERSION, if known."),
    recipient: str | None = RecipientOption,
    channel: str = ChannelOption,
    actor: str = ActorOption,
    evidence: str | None = typer.Option(None, "--evidence", help="Only its SHA-256 is kept."),
    as_json: bool = JsonOption,
) -> None:
    """Record that the customer withdrew consent (takes effect at once)."""
    _record(
        ctx, "withdraw", customer, purpose, recipient, notice, channel, actor, evidence, as_json
    )


@app.command("object")
def object_command(
    ctx: typer.Context,
    customer: str = CustomerArg,
    purpose: str = PurposeOption,
    channel: str = ChannelOption,
    actor: str = ActorOption,
    reason: str = typer.Option("", "--reason", help="Reference to the request (no personal data)."),
    lift: bool = typer.Option(False, "--lift", help="End the objection instead."),
    as_json: bool = JsonOption,
) -> None:
    """Art. 21 objection to a purpose and its descendants (e.g. marketing), or --lift it."""
    with vault_for(ctx) as vault:
        service = vault.consent
        ref = service.resolve_customer(customer)
        if lift:
            result: dict[str, Any] = {
                "customer": ref.public_id,
                "purpose": purpose,
                "lifted": service.lift_objection(ref.id, purpose, actor=actor),
            }
        else:
            view = service.object(ref.id, purpose, channel=channel, actor=actor, reason=reason)
            result = {"customer": ref.public_id, **asdict(view)}
    emit(
        result,
        as_json,
        lambda out: out.print(
            f"Objection to {purpose} {'lifted' if lift else 'recorded'} for {ref.public_id}."
        ),
    )


@app.command("restrict")
def restrict(
    ctx: typer.Context,
    customer: str = CustomerArg,
    channel: str = ChannelOption,
    actor: str = ActorOption,
    reason: str = typer.Option("", "--reason", help="Reference to the request (no personal data)."),
    lift: bool = typer.Option(False, "--lift", help="End the restriction instead."),
    as_json: bool = JsonOption,
) -> None:
    """Art. 18 restriction: only storage until lifted (--lift)."""
    with vault_for(ctx) as vault:
        service = vault.consent
        ref = service.resolve_customer(customer)
        if lift:
            result: dict[str, Any] = {
                "customer": ref.public_id,
                "lifted": service.lift_restriction(ref.id, actor=actor),
            }
        else:
            view = service.restrict(ref.id, channel=channel, actor=actor, reason=reason)
            result = {"customer": ref.public_id, **asdict(view)}
    emit(
        result,
        as_json,
        lambda out: out.print(
            f"Restriction {'lifted' if lift else 'recorded'} for {ref.public_id}."
        ),
    )


@app.command("show")
def show(ctx: typer.Context, customer: str = CustomerArg, as_json: bool = JsonOption) -> None:
    """The customer's current consents, objections and restriction."""
    with vault_for(ctx) as vault:
        service = vault.consent
        facts = service.customer_consent_state(service.resolve_customer(customer).id)
    result: dict[str, Any] = {
        "customer": facts.public_id,
        "language": facts.language,
        "at": facts.at.isoformat(),
        "restricted": facts.restricted,
        "consents": [
            {
                "purpose": d.purpose,
                "recipient": d.recipient,
                "status": d.status,
                "active": d.active_at(facts.at),
                "decided_at": d.decided_at.isoformat(),
                "expires_at": d.expires_at.isoformat() if d.expires_at else None,
                "notice_id": d.notice_id,
                "event_id": d.event_id,
            }
            for d in facts.decisions
        ],
        "objections": [
            {
                "purpose": o.purpose,
                "recorded_at": o.recorded_at.isoformat(),
                "lifted_at": o.lifted_at.isoformat() if o.lifted_at else None,
            }
            for o in facts.objections
        ],
    }

    def render(out: Console) -> None:
        out.print(
            f"[bold]{facts.public_id}[/] ({facts.language})"
            + ("  [red]restricted (Art. 18)[/]" if facts.restricted else "")
        )
        table = Table("purpose", "recipient", "decision", "active", "decided", "expires")
        for c in result["consents"]:
            table.add_row(
                c["purpose"],
                c["recipient"] or "",
                c["status"],
                "yes" if c["active"] else "no",
                c["decided_at"],
                c["expires_at"] or "",
            )
        out.print(table)
        for o in result["objections"]:
            out.print(
                f"objection: {o['purpose']} since {o['recorded_at']}"
                + (f", lifted {o['lifted_at']}" if o["lifted_at"] else "")
            )

    emit(result, as_json, render)


@app.command("proof")
def proof(ctx: typer.Context, customer: str = CustomerArg, as_json: bool = JsonOption) -> None:
    """Art. 7(1) proof: every decision, when, how, by whom, and the notice text shown."""
    with vault_for(ctx) as vault:
        service = vault.consent
        record = service.proof(service.resolve_customer(customer).id)
    result = {
        "customer": record.public_id,
        "language": record.language,
        "events": [_entry_json(e) for e in record.events],
        "objections": [asdict(o) for o in record.objections],
        "restrictions": [asdict(r) for r in record.restrictions],
    }

    def render(out: Console) -> None:
        out.print(f"[bold]Consent proof for {record.public_id}[/] (language {record.language})")
        for e in record.events:
            notice = f"{e.notice.key} v{e.notice.version}" if e.notice else "-"
            out.print(
                f"#{e.event_id} {e.occurred_at.isoformat()} {e.action} {e.purpose}"
                f"{' -> ' + e.recipient if e.recipient else ''} via {e.channel} "
                f"by {e.actor}; notice {notice}; evidence sha256 {e.evidence_hash}"
            )
            if e.notice is not None:
                out.print(f"    {e.notice.text(record.language)}")

    emit(result, as_json, render)


@app.command("count")
def count(
    ctx: typer.Context,
    purpose: str = PurposeOption,
    recipient: str | None = RecipientOption,
    as_json: bool = JsonOption,
) -> None:
    """How many customers a purpose may reach, and how many are excluded and why."""
    with vault_for(ctx) as vault:
        counts = vault.consent.count_exclusions(purpose, recipient)
    result = asdict(counts)
    emit(
        result,
        as_json,
        lambda out: out.print(
            f"{counts.eligible} of {counts.total} customers may be used for {purpose}; excluded: "
            f"no consent {counts.no_consent}, objection {counts.objection}, "
            f"restriction {counts.restriction}."
        ),
    )


@app.command("link")
def link(ctx: typer.Context, customer: str = CustomerArg, as_json: bool = JsonOption) -> None:
    """A personal preference-centre link, e.g. to read to the customer on the phone."""
    with vault_for(ctx) as vault:
        ref = vault.consent.resolve_customer(customer)
        signer = vault.links
        vault.audit.record(
            AuditEntry(
                at=vault.clock.now(),
                kind=Kind.CONSENT,
                action="consent.link",
                principal=principal(ctx),
                outcome=Outcome.SUCCEEDED,
                subjects=(ref.public_id,),
                details={"channel": "cli"},
            )
        )
        result = {
            "customer": ref.public_id,
            "url": signer.url(ref),
            "expires_at": signer.expires_at().isoformat(),
        }
    emit(result, as_json, lambda out: out.print(result["url"]))


@app.command("request")
def request(
    ctx: typer.Context,
    purpose: str = PurposeOption,
    recipient: str | None = RecipientOption,
    send: bool = typer.Option(False, "--send", help="E-mail each customer via the SMTP server."),
    out: Path | None = OutOption,
    as_json: bool = JsonOption,
) -> None:
    """Ask every customer who has not decided about PURPOSE, each in their own language.

    Output shows counts only; addresses go to the SMTP server or the mailer's CSV."""
    with vault_for(ctx) as vault:
        outcome = request_consent(
            vault.consent,
            vault.links,
            vault.customers,
            vault.settings,
            purpose,
            recipient,
            actor=principal(ctx),
            send=send,
            out=out,
        )
    result = asdict(outcome)
    if out is not None:
        result["file"] = str(out)

    def render(console: Console) -> None:
        done = f"sent {outcome.sent}" if send else f"written {outcome.written} to {out}"
        console.print(
            f"Consent request for {purpose} (notice {outcome.notice_key} "
            f"v{outcome.notice_version}): {outcome.selected} customers undecided; {done}; "
            f"no address {outcome.no_address}; failed {outcome.failed}."
        )

    emit(result, as_json, render)
