"""The incident report form (R7): ``GET/POST /incidents/report``, in en/cs/ur.

Plain HTML without JavaScript, for any employee.  The reporter types their privault
API key into it: the key's owner is the reporter, as in the JSON API
(``POST /api/v1/incidents``), and gets back only the reference.  The form is
protected by ``console.csrf``.  Compliance is told after the response (a background
task), so a slow webhook never delays a reporter.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Final

from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import HTMLResponse, Response

from privault.console.csrf import FORM_EXPIRED, FormExpired, GuardedForm
from privault.console.pages import render_page
from privault.console.services import page_services
from privault.errors import N_, InvalidInput, PrivaultError
from privault.i18n import Language, negotiate, parse_language
from privault.incidents.notify import OPENED
from privault.incidents.service import IncidentService

router = APIRouter(prefix="/incidents", include_in_schema=False)

FORM: Final = GuardedForm("incidents.report", "pv_incident_csrf", "/incidents/report")
CATEGORY_CHOICES: Final[tuple[tuple[str, str], ...]] = (
    ("user.contact", N_("contact details (e-mail, phone, address)")),
    ("user.name", N_("names")),
    ("user.financial", N_("financial data (bank accounts, cards)")),
    ("user.government_id", N_("national identification numbers")),
    ("user", N_("other customer data")),
)
FORM_ERRORS: Final[dict[str, str]] = {
    "csrf": FORM_EXPIRED,
    "key": N_("The key was not accepted. Use the privault API key issued to you."),
    "input": N_("Please describe what happened, and check the numbers and the time."),
}


def _page(lang: Language, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    return render_page(template, lang, status_code, categories=CATEGORY_CHOICES, **context)


def _form(
    request: Request, lang: Language, status_code: int = 200, error: str | None = None
) -> Response:
    return page_services(request).csrf.issue(
        FORM,
        lambda csrf: _page(
            lang, "report/form.html", status_code, csrf=csrf, error=FORM_ERRORS.get(error or "")
        ),
    )


def _lang(request: Request, value: str | None) -> Language:
    return parse_language(value) if value else negotiate(request.headers.get("accept-language"))


def _notify(service: IncidentService, incident_id: str) -> None:
    service.notify(OPENED, service.get(incident_id))


@router.get("/report", response_class=HTMLResponse)
def report_form(request: Request, lang: str | None = None) -> Response:
    return _form(request, _lang(request, lang))


@router.post("/report", response_class=HTMLResponse)
def report_submit(
    request: Request,
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
    services = page_services(request)
    language = _lang(request, lang)
    try:
        services.csrf.verify(FORM, request.cookies, csrf)
    except FormExpired:
        return _form(request, language, 403, "csrf")
    try:
        caller = services.keys.authenticate(f"Bearer {api_key.strip()}")
    except PrivaultError:
        return _form(request, language, 401, "key")
    try:
        when = None
        if noticed_at.strip():
            when = datetime.fromisoformat(noticed_at.strip())
            when = when.replace(tzinfo=UTC) if when.tzinfo is None else when
        count = int(customers) if customers.strip() else None
        allowed = {key for key, _ in CATEGORY_CHOICES}
        view = services.incidents.report(
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
        return _form(request, language, 422, "input")
    tasks.add_task(_notify, services.incidents, view.id)
    return _page(language, "report/reported.html", 201, reference=view.id, anonymous=view.anonymous)
