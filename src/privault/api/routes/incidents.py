"""Incidents over HTTP (R7): the JSON API under ``/api/v1/incidents``.

Any authenticated principal may report -- no access to customer data is needed -- and
gets back only the reference.  Everything else is for the compliance team
(``AdminDep``): the register, the workflow, the notices, the detectors.  An anonymous
reporter stays hidden unless compliance asks with ``reveal_reporter=true`` (audited).

The report form for people (``/incidents/report``) is a page: ``privault.console.report``.
Notifications to compliance go out after the response (a background task), so a slow
webhook never delays a reporter.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request
from fastapi.responses import PlainTextResponse, Response

from privault.api.limits import offload
from privault.api.services import AdminDep, CallerDep, Services
from privault.incidents.detectors import run_checks
from privault.incidents.notices import authority_notice, customer_notice, send_customer_notices
from privault.incidents.notify import OPENED
from privault.incidents.schemas import (
    AssessIn,
    AssignIn,
    AwareIn,
    IncidentView,
    NoteIn,
    ReportIn,
    TransitionIn,
)
from privault.incidents.service import IncidentService
from privault.incidents.workflow import Status

router = APIRouter(prefix="/incidents", tags=["incidents"])


async def incident_service(request: Request) -> IncidentService:
    """The app's one service (``app.state.incidents``, built with the app; reading it
    does not block, so no thread-pool hand-off per request)."""
    found = request.app.state.incidents
    assert isinstance(found, IncidentService)
    return found


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
    prevented: bool = False,
) -> Response:
    """Every breach, notified or not (Art. 33(5)); with ``prevented=true`` the
    prevented attempts instead, which are kept apart."""
    if format == "csv":
        text = await offload(api.request_timeout, lambda: service.register_csv(prevented=prevented))
        return PlainTextResponse(
            text,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="incident-register.csv"'},
        )
    from fastapi.responses import JSONResponse

    return JSONResponse(
        await offload(api.request_timeout, lambda: service.register(prevented=prevented))
    )


@router.post("/check", summary="Run the detectors and deadline warnings")
async def check(api: Services, who: AdminDep, service: Incidents) -> dict[str, Any]:
    result = await offload(api.request_timeout, run_checks, service, actor=who.principal)
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
        aware_at=body.aware_at,
    )
    return view.as_json()


@router.post("/{incident_id}/aware", summary="Record when the breach became known")
async def aware(
    incident_id: str, body: AwareIn, api: Services, who: AdminDep, service: Incidents
) -> dict[str, Any]:
    """The Art. 33(1) clock runs 72 hours from this instant, never rolled."""
    view = await offload(
        api.request_timeout,
        service.record_awareness,
        incident_id,
        body.aware_at,
        actor=who.principal,
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


__all__ = ["router"]
