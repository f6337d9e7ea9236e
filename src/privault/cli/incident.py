"""``privault incident``: report, follow and close incidents; run the detectors (R7).

Anyone may report (``report``), anonymously too (``--anonymous``: the name is sealed,
and only the compliance role can reveal it).  The compliance team follows the workflow
(``assign``, ``assess``, ``transition``, ``note``), exports the register and drafts
the notices.  ``check`` runs every detector and the deadline warnings: put it in cron.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from privault.cli.context import JsonOption, LangOption, emit, principal, vault_for
from privault.errors import N_, InvalidInput
from privault.i18n import translator
from privault.incidents.detectors import run_checks
from privault.incidents.notices import (
    PHASES,
    authority_notice,
    customer_notice,
    send_customer_notices,
)
from privault.incidents.schemas import IncidentView
from privault.incidents.service import IncidentService
from privault.incidents.workflow import STATUS_LABELS, Risk, Severity, parse_status
from privault.policy.roles import require_compliance

REVIEW_DUE = N_("review by %(when)s")

app = typer.Typer(no_args_is_help=True)
IdArg = typer.Argument(..., help="Incident id (inc_...).")
Repeat = list[str] | None


def _service(ctx: typer.Context) -> IncidentService:
    """The vault's incident service, open until the command ends."""
    return ctx.with_resource(vault_for(ctx)).incidents


def _when(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(N_("Give the time as ISO 8601, e.g. 2026-11-22T09:30+01:00.")) from None
    if parsed.tzinfo is None:
        raise InvalidInput(N_("Give the time with a time zone (UTC is fine)."))
    return parsed


def _summary(out: Console, view: IncidentView, lang: str) -> None:
    gettext = translator(lang).gettext
    clock = view.clock
    left = f"{clock.seconds_left / 3600:.1f} h" if clock.running else "-"
    if view.review_due is not None:
        left = gettext(REVIEW_DUE) % {"when": f"{view.review_due:%Y-%m-%d %H:%M} UTC"}
    flag = " [bold red]OVERDUE[/]" if clock.overdue else ""
    out.print(f"[bold]{view.id}[/] {gettext(view.title)}")
    out.print(
        f"  {gettext(STATUS_LABELS[view.status])} · {view.severity.value} · "
        f"{view.risk.value} · {left}{flag}"
    )


@app.command("report")
def report(
    ctx: typer.Context,
    description: str = typer.Option(
        ..., "--description", "-d", help="What happened (no customer data, please)."
    ),
    title: str | None = typer.Option(None, "--title", help="A short title."),
    noticed_at: str | None = typer.Option(
        None, "--noticed-at", help="When it was noticed (ISO 8601)."
    ),
    category: Annotated[Repeat, typer.Option("--category", help="Data category key.")] = None,
    system: Annotated[Repeat, typer.Option("--system", help="System concerned.")] = None,
    customers: int | None = typer.Option(
        None, "--customers", min=0, help="Customers possibly affected."
    ),
    records: int | None = typer.Option(None, "--records", min=0, help="Records affected."),
    anonymous: bool = typer.Option(
        False, "--anonymous", help="Hide my name from all but compliance."
    ),
    as_json: bool = JsonOption,
    lang: str = LangOption,
) -> None:
    """Report a suspected mishandling of customer data."""
    service = _service(ctx)
    view = service.report(
        reporter=principal(ctx),
        description=description,
        title=title,
        noticed_at=_when(noticed_at),
        categories=category or (),
        systems=system or (),
        estimated_customers=customers,
        estimated_records=records,
        anonymous=anonymous,
    )
    emit(view.as_json(), as_json, lambda out: _summary(out, view, lang))


@app.command("list")
def list_incidents(
    ctx: typer.Context,
    status: str | None = typer.Option(None, "--status", help="Only this status."),
    overdue: bool = typer.Option(False, "--overdue", help="Only overdue ones."),
    as_json: bool = JsonOption,
    lang: str = LangOption,
) -> None:
    """Incidents, oldest first, with the time left to notify the authority."""
    service = _service(ctx)
    views = service.find(status=parse_status(status) if status else None, overdue=overdue)

    def render(out: Console) -> None:
        gettext = translator(lang).gettext
        table = Table("id", "status", "severity", "risk", "hours left", "title")
        for v in views:
            left = f"{v.clock.seconds_left / 3600:.1f}" if v.clock.running else "-"
            table.add_row(
                v.id,
                gettext(STATUS_LABELS[v.status]),
                v.severity.value,
                v.risk.value,
                ("[red]" + left + "[/]") if v.clock.overdue else left,
                gettext(v.title),
            )
        out.print(table)

    emit([v.as_json() for v in views], as_json, render)


def _require_compliance(ctx: typer.Context, service: IncidentService) -> None:
    require_compliance(service.policy(), principal(ctx).removeprefix("cli:"))


@app.command("show")
def show(
    ctx: typer.Context,
    incident: str = IdArg,
    reveal_reporter: bool = typer.Option(
        False, "--reveal-reporter", help="Compliance only: show an anonymous reporter."
    ),
    as_json: bool = JsonOption,
    lang: str = LangOption,
) -> None:
    """One incident with its timeline."""
    service = _service(ctx)
    if reveal_reporter:
        _require_compliance(ctx, service)
        view = service.reveal_reporter(incident, actor=principal(ctx))
    else:
        view = service.get(incident)
    events = service.timeline(incident)
    data: dict[str, Any] = {**view.as_json(), "timeline": [e.as_json() for e in events]}

    def render(out: Console) -> None:
        gettext = translator(lang).gettext
        _summary(out, view, lang)
        out.print(f"  {view.description}")
        out.print(
            f"  reporter: {view.reporter or ('(anonymous)' if view.anonymous else '-')}"
            f" · owner: {view.owner or '-'}"
        )
        out.print(
            f"  aware: {view.aware_at:%Y-%m-%d %H:%M} UTC · deadline: "
            f"{view.clock.deadline:%Y-%m-%d %H:%M} UTC"
        )
        for e in events:
            out.print(f"  {e.at:%Y-%m-%d %H:%M} {e.actor} {e.kind}: {gettext(e.message)}")

    emit(data, as_json, render)


@app.command("assign")
def assign(
    ctx: typer.Context,
    incident: str = IdArg,
    owner: str = typer.Argument(..., help="The principal who owns it now."),
    as_json: bool = JsonOption,
    lang: str = LangOption,
) -> None:
    """Give the incident an owner."""
    view = _service(ctx).assign(incident, owner, actor=principal(ctx))
    emit(view.as_json(), as_json, lambda out: _summary(out, view, lang))


@app.command("assess")
def assess(
    ctx: typer.Context,
    incident: str = IdArg,
    risk: Risk | None = typer.Option(None, "--risk", help="none, risk or high (Art. 33/34)."),
    severity: Severity | None = typer.Option(None, "--severity"),
    category: Annotated[Repeat, typer.Option("--category", help="Data category key.")] = None,
    system: Annotated[Repeat, typer.Option("--system", help="System concerned.")] = None,
    customers: int | None = typer.Option(None, "--customers", min=0),
    records: int | None = typer.Option(None, "--records", min=0),
    consequences: str | None = typer.Option(None, "--consequences"),
    measures: str | None = typer.Option(None, "--measures", help="Measures taken or proposed."),
    as_json: bool = JsonOption,
    lang: str = LangOption,
) -> None:
    """Record the assessment: risk, severity, scope, consequences, measures."""
    view = _service(ctx).assess(
        incident,
        actor=principal(ctx),
        risk=risk,
        severity=severity,
        categories=category,
        systems=system,
        estimated_customers=customers,
        estimated_records=records,
        consequences=consequences,
        measures=measures,
    )
    emit(view.as_json(), as_json, lambda out: _summary(out, view, lang))


@app.command("transition")
def transition(
    ctx: typer.Context,
    incident: str = IdArg,
    status: str = typer.Argument(
        ...,
        help="triaged, contained, notified, closed, dismissed; for a prevented attempt "
        "reviewed, or reported (convert it into a suspected breach).",
    ),
    reason: str | None = typer.Option(
        None, "--reason", help="Why (dismissal, review finding, late notification...)."
    ),
    aware_at: str | None = typer.Option(
        None,
        "--aware-at",
        help="Converting a prevented attempt: when you became aware data may have left "
        "(ISO 8601; now by default). The 72-hour clock starts there.",
    ),
    as_json: bool = JsonOption,
    lang: str = LangOption,
) -> None:
    """Move the incident to its next status (see the transition table)."""
    view = _service(ctx).transition(
        incident,
        parse_status(status),
        actor=principal(ctx),
        reason=reason,
        aware_at=_when(aware_at),
    )
    emit(view.as_json(), as_json, lambda out: _summary(out, view, lang))


@app.command("aware")
def aware(
    ctx: typer.Context,
    incident: str = IdArg,
    at: str = typer.Argument(..., help="When the breach became known (ISO 8601)."),
    as_json: bool = JsonOption,
    lang: str = LangOption,
) -> None:
    """Record when the controller became aware of a breach: the 72-hour clock
    (GDPR Art. 33(1)) runs from it, through nights, weekends and holidays."""
    when = _when(at)
    assert when is not None
    view = _service(ctx).record_awareness(incident, when, actor=principal(ctx))
    emit(view.as_json(), as_json, lambda out: _summary(out, view, lang))


@app.command("note")
def note(
    ctx: typer.Context,
    incident: str = IdArg,
    text: str = typer.Argument(..., help="What was done or found."),
    as_json: bool = JsonOption,
) -> None:
    """Add a line to the timeline (it can never be edited)."""
    event = _service(ctx).note(incident, text, actor=principal(ctx))
    emit(event.as_json(), as_json, lambda out: out.print(f"noted ({event.id})"))


@app.command("register")
def register(
    ctx: typer.Context,
    fmt: str = typer.Option("json", "--format", help="json or csv."),
    out: Path | None = typer.Option(None, "--out", help="Write to this file."),
    prevented: bool = typer.Option(
        False, "--prevented", help="The prevented attempts (kept apart: no breaches)."
    ),
    as_json: bool = JsonOption,
) -> None:
    """The register of every breach, notified or not (GDPR Art. 33(5)), dismissed ones
    included; ``--prevented`` lists the prevented attempts instead."""
    service = _service(ctx)
    if fmt not in ("json", "csv"):
        raise InvalidInput(N_("Unknown format '%(format)s'; use json or csv."), format=fmt)
    rows = service.register(prevented=prevented)
    if fmt == "csv":
        text = service.register_csv(prevented=prevented)
    else:
        import json

        text = json.dumps(rows, ensure_ascii=False, indent=2) + "\n"
    if out is not None:
        out.write_text(text, encoding="utf-8")
        emit(
            {"written": str(out), "incidents": len(rows)},
            as_json,
            lambda console: console.print(f"written: {out}"),
        )
        return
    typer.echo(text, nl=False)


@app.command("draft-notice")
def draft_notice(
    ctx: typer.Context,
    incident: str = IdArg,
    customers: bool = typer.Option(
        False, "--customers", help="The customers' notice (Art. 34), not the authority's."
    ),
    lang: str = typer.Option("en", "--lang", help="en or cs (authority); en, cs, ur (customers)."),
    phase: str = typer.Option("initial", "--phase", help="initial, supplementary or final."),
    send: bool = typer.Option(
        False, "--send", help="Customers: e-mail each affected customer now."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Draft the notification to the authority (Art. 33) or to customers (Art. 34)."""
    service = _service(ctx)
    if not customers:
        if phase not in PHASES:
            raise InvalidInput(
                N_("Unknown phase '%(phase)s'; use initial, supplementary or final."), phase=phase
            )
        notice = authority_notice(service, incident, lang=lang, phase=phase, actor=principal(ctx))
        emit(notice.as_json(), as_json, lambda out: out.print(notice.text(), markup=False))
        return
    if send:
        outcome = send_customer_notices(service, incident, actor=principal(ctx))
        emit(outcome.as_json(), as_json, lambda out: out.print(outcome.as_json()))
        return
    draft = customer_notice(service, service.get(incident), lang)
    emit(
        draft.as_json(),
        as_json,
        lambda out: out.print(f"{draft.subject}\n\n{draft.body}", markup=False),
    )


@app.command("check")
def check(ctx: typer.Context, as_json: bool = JsonOption) -> None:
    """Run every detector and the deadline warnings (suitable for cron)."""
    result = run_checks(_service(ctx), actor=principal(ctx))
    emit(result.as_json(), as_json, lambda out: out.print(result.as_json()))


__all__ = ["app"]
