"""Incidents over HTTP (R7): a JSON API under ``/api/v1/incidents`` and a report form.

Any authenticated principal may report -- no access to customer data is needed -- and
gets back only the reference.  Everything else is for the compliance team
(``AdminDep``): the register, the workflow, the notices, the detectors.  An anonymous
reporter stays hidden unless compliance asks with ``reveal_reporter=true`` (audited).

The form (``GET/POST /incidents/report``, en/cs/ur) is plain HTML without JavaScript.
The reporter types their API key into it (the key's owner is the reporter, as in the
API).  CSRF: a random nonce in a ``SameSite=Strict`` cookie and its keyed MAC in the
form; both must come back together.  Notifications to compliance go out after the
response (a background task), so a slow webhook never delays a reporter.
"""

from __future__ import annotations

import base64
import hmac
import secrets
from datetime import UTC, datetime
from typing import Annotated, Any, Final

from fastapi import APIRouter, BackgroundTasks, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

from privault.api.limits import offload
from privault.api.services import AdminDep, CallerDep, Services, services
from privault.console.pages import page_environment, render_page
from privault.errors import N_, InvalidInput, PrivaultError
from privault.i18n import Language, negotiate, parse_language
from privault.incidents.detectors import run_checks
from privault.incidents.notices import authority_notice, customer_notice, send_customer_notices
from privault.incidents.notify import OPENED
from privault.incidents.schemas import (
    AssessIn,
    AssignIn,
    IncidentView,
    NoteIn,
    ReportIn,
    TransitionIn,
)
from privault.incidents.service import IncidentService
from privault.incidents.workflow import Status

router = APIRouter(prefix="/incidents", tags=["incidents"])
pages = APIRouter(prefix="/incidents", include_in_schema=False)

CSRF_PURPOSE: Final = "incidents.report-csrf.v1"
CSRF_COOKIE: Final = "pv_incident_csrf"
CATEGORY_CHOICES: Final[tuple[tuple[str, str], ...]] = (
    ("user.contact", N_("contact details (e-mail, phone, address)")),
    ("user.name", N_("names")),
    ("user.financial", N_("financial data (bank accounts, cards)")),
    ("user.government_id", N_("national identification numbers")),
    ("user", N_("other customer data")),
)
FORM_ERRORS: Final[dict[str, str]] = {
    "csrf": N_("The form expired or was not sent from this page. Please fill it in again."),
    "key": N_("The key was not accepted. Use the privault API key issued to you."),
    "input": N_("Please describe what happened, and check the numbers and the time."),
}


async def incident_service(request: Request) -> IncidentService:
    """The vault's incident service (the composition root builds it once)."""
    return services(request).vault.incidents


Incidents = Annotated[IncidentService, Depends(incident_service)]


def _full(view: IncidentView, service: IncidentService) -> dict[str, Any]:
    return {**view.as_json(), "timeline": [e.as_json() for e in service.timeline(view.id)]}


def _notify(service: IncidentService, incident_id: str) -> None:
    service.notify(OPENED, service.get(incident_id))


# -- JSON API -------------------------------------------------------------------------


@router.post("", status_code=201, summary="Report a suspected mishandling")
async def report(
    body: ReportIn, api: Services, who: CallerDep, service: Incidents, tasks: BackgroundTasks
) -> dict[str, Any]:
    """Anyone with a key may report.  The answer is the reference and status only."""
    view = await offload(
        api.request_timeout,
        lambda: service.report(
            reporter=who.principal,
            description=body.description,
            title=body.title,
            noticed_at=body.noticed_at,
            categories=body.categories,
            systems=body.systems,
            estimated_customers=body.estimated_customers,
            estimated_records=body.estimated_records,
            anonymous=body.anonymous,
            notify=False,
        ),
    )
    tasks.add_task(_notify, service, view.id)
    return {
        "id": view.id,
        "status": view.status.value,
        "anonymous": view.anonymous,
        "reported_at": view.reported_at.isoformat(),
    }


@router.get("", summary="Incidents, oldest first")
async def list_incidents(
    api: Services,
    who: AdminDep,
    service: Incidents,
    status: Status | None = None,
    overdue: bool = False,
) -> list[dict[str, Any]]:
    views = await offload(api.request_timeout, service.find, status=status, overdue=overdue)
    return [v.as_json() for v in views]


@router.get("/register", summary="The register (Art. 33(5)) as JSON or CSV")
async def register(
    api: Services,
    who: AdminDep,
    service: Incidents,
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
) -> Response:
    if format == "csv":
        text = await offload(api.request_timeout, service.register_csv)
        return PlainTextResponse(
            text,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="incident-register.csv"'},
        )
    from fastapi.responses import JSONResponse

    return JSONResponse(await offload(api.request_timeout, service.register))


@router.post("/check", summary="Run the detectors and deadline warnings")
async def check(api: Services, who: AdminDep, service: Incidents) -> dict[str, Any]:
    result = await offload(api.request_timeout, run_checks, service)
    return result.as_json()


@router.get("/{incident_id}", summary="One incident with its timeline")
async def show(
    incident_id: str,
    api: Services,
    who: AdminDep,
    service: Incidents,
    reveal_reporter: bool = False,
) -> dict[str, Any]:
    def load() -> dict[str, Any]:
        if reveal_reporter:
            view = service.reveal_reporter(incident_id, actor=who.principal)
        else:
            view = service.get(incident_id)
        return _full(view, service)

    return await offload(api.request_timeout, load)


@router.post("/{incident_id}/assign", summary="Set the owner")
async def assign(
    incident_id: str, body: AssignIn, api: Services, who: AdminDep, service: Incidents
) -> dict[str, Any]:
    view = await offload(
        api.request_timeout, service.assign, incident_id, body.owner, actor=who.principal
    )
    return view.as_json()


@router.post("/{incident_id}/assess", summary="Record the assessment")
async def assess(
    incident_id: str, body: AssessIn, api: Services, who: AdminDep, service: Incidents
) -> dict[str, Any]:
    view = await offload(
        api.request_timeout,
        lambda: service.assess(
            incident_id,
            actor=who.principal,
            risk=body.risk,
            severity=body.severity,
            categories=body.categories,
            systems=body.systems,
            estimated_customers=body.estimated_customers,
            estimated_records=body.estimated_records,
            consequences=body.consequences,
            measures=body.measures,
        ),
    )
    return view.as_json()


@router.post("/{incident_id}/transition", summary="Move to the next status")
async def transition(
    incident_id: str, body: TransitionIn, api: Services, who: AdminDep, service: Incidents
) -> dict[str, Any]:
    view = await offload(
        api.request_timeout,
        service.transition,
        incident_id,
        body.status,
        actor=who.principal,
        reason=body.reason,
    )
    return view.as_json()


@router.post("/{incident_id}/notes", status_code=201, summary="Add to the timeline")
async def note(
    incident_id: str, body: NoteIn, api: Services, who: AdminDep, service: Incidents
) -> dict[str, Any]:
    event = await offload(
        api.request_timeout, service.note, incident_id, body.text, actor=who.principal
    )
    return event.as_json()


@router.get("/{incident_id}/notices/authority", summary="Draft the Art. 33 notification")
async def authority(
    incident_id: str,
    api: Services,
    who: AdminDep,
    service: Incidents,
    lang: Annotated[str, Query(pattern="^(en|cs)$")] = "en",
    phase: Annotated[str, Query(pattern="^(initial|supplementary|final)$")] = "initial",
) -> dict[str, Any]:
    notice = await offload(
        api.request_timeout,
        lambda: authority_notice(
            service,
            incident_id,
            lang=lang,
            phase="initial"
            if phase == "initial"
            else "final"
            if phase == "final"
            else "supplementary",
        ),
    )
    return notice.as_json()


@router.get("/{incident_id}/notices/customers", summary="Draft the Art. 34 notice")
async def customers_draft(
    incident_id: str,
    api: Services,
    who: AdminDep,
    service: Incidents,
    lang: Annotated[str, Query(pattern="^(en|cs|ur)$")] = "en",
) -> dict[str, Any]:
    view = await offload(api.request_timeout, service.get, incident_id)
    return customer_notice(service, view, lang).as_json()


@router.post("/{incident_id}/notices/customers/send", summary="E-mail the affected customers")
async def customers_send(
    incident_id: str, api: Services, who: AdminDep, service: Incidents
) -> dict[str, Any]:
    outcome = await offload(
        api.request_timeout,
        lambda: send_customer_notices(service, incident_id, actor=who.principal),
    )
    return outcome.as_json()


# -- the report form ------------------------------------------------------------------


_templates = page_environment("privault.incidents")


def _csrf_token(service: IncidentService, nonce: str) -> str:
    digest = service.keyring.mac(CSRF_PURPOSE, nonce.encode("ascii"))
    return base64.urlsafe_b64encode(digest[:24]).decode("ascii")


def _page(lang: Language, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    return render_page(
        _templates, template, lang, status_code, categories=CATEGORY_CHOICES, **context
    )


def _form(
    service: IncidentService, lang: Language, status_code: int = 200, error: str | None = None
) -> HTMLResponse:
    nonce = secrets.token_urlsafe(24)
    response = _page(
        lang,
        "report.html",
        status_code,
        csrf=_csrf_token(service, nonce),
        error=FORM_ERRORS.get(error or ""),
    )
    response.set_cookie(
        CSRF_COOKIE, nonce, httponly=True, samesite="strict", path="/incidents/report", max_age=3600
    )
    return response


def _lang(request: Request, value: str | None) -> Language:
    return parse_language(value) if value else negotiate(request.headers.get("accept-language"))


@pages.get("/report", response_class=HTMLResponse)
def report_form(request: Request, service: Incidents, lang: str | None = None) -> Response:
    return _form(service, _lang(request, lang))


@pages.post("/report", response_class=HTMLResponse)
def report_submit(
    request: Request,
    service: Incidents,
    tasks: BackgroundTasks,
    csrf: Annotated[str, Form()] = "",
    lang: Annotated[str, Form()] = "",
    api_key: Annotated[str, Form()] = "",
    description: Annotated[str, Form(max_length=5000)] = "",
    noticed_at: Annotated[str, Form()] = "",
    customers: Annotated[str, Form()] = "",
    systems: Annotated[str, Form(max_length=500)] = "",
    category: Annotated[list[str] | None, Form()] = None,
    anonymous: Annotated[str, Form()] = "",
) -> Response:
    language = _lang(request, lang)
    nonce = request.cookies.get(CSRF_COOKIE, "")
    if not nonce or not hmac.compare_digest(_csrf_token(service, nonce), csrf):
        return _form(service, language, 403, "csrf")
    try:
        caller = services(request).auth.authenticate(f"Bearer {api_key.strip()}")
    except PrivaultError:
        return _form(service, language, 401, "key")
    try:
        when = None
        if noticed_at.strip():
            when = datetime.fromisoformat(noticed_at.strip())
            when = when.replace(tzinfo=UTC) if when.tzinfo is None else when
        count = int(customers) if customers.strip() else None
        allowed = {key for key, _ in CATEGORY_CHOICES}
        view = service.report(
            reporter=caller.principal,
            description=description,
            noticed_at=when,
            estimated_customers=count,
            categories=[c for c in (category or []) if c in allowed],
            systems=[s for s in systems.split(",") if s.strip()],
            anonymous=anonymous == "on",
            notify=False,
        )
    except (ValueError, InvalidInput):
        return _form(service, language, 422, "input")
    tasks.add_task(_notify, service, view.id)
    return _page(language, "reported.html", 201, reference=view.id, anonymous=view.anonymous)


__all__ = ["pages", "router"]
