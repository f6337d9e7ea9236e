"""The customers' preference centre: plain HTML forms, no JavaScript, no account.

``GET /preferences/{token}`` shows the current notices and the customer's decision on
each; ``POST`` records one grant or withdrawal (one click each way, Art. 7(3)) and
redirects back (post/redirect/get).  The token in the path is the signed, expiring
link; each form is protected by ``console.csrf`` like every other form.  Every
refusal is a page in the customer's language with 403, 404, 409, 410 or 422 -- never
a 500; a form that expired comes back fresh, with the reason, and records nothing.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Final, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from privault.consent.links import PATH_PREFIX
from privault.consent.schemas import ConsentFacts, Notice
from privault.console.csrf import FORM_EXPIRED, FormExpired, GuardedForm
from privault.console.pages import render_page
from privault.console.services import PageServices, page_services
from privault.customers.service import CustomerRef
from privault.errors import N_, InvalidLinkError, NotFound, PrivaultError
from privault.i18n import Language, negotiate, parse_language, translator

router = APIRouter(prefix=PATH_PREFIX, include_in_schema=False)

FORM: Final = GuardedForm("consent.preferences", "pv_preferences_csrf", PATH_PREFIX)

Status = Literal["granted", "withdrawn", "expired", "undecided"]


CHANNEL_LABELS = {
    "web": N_("on the web"),
    "phone": N_("by phone"),
    "paper": N_("on paper"),
    "api": N_("through an application"),
    "import": N_("imported"),
}
ACTION_LABELS = {"grant": N_("consent given"), "withdraw": N_("consent withdrawn")}
DONE_MESSAGES = {
    "grant": N_("Thank you. Your consent has been recorded."),
    "withdraw": N_("Your consent has been withdrawn."),
}
REFUSALS: dict[int, tuple[str, str]] = {
    403: (
        N_("This link is not valid"),
        N_(
            "The link may have been changed or copied incompletely. Please use the link "
            "exactly as we sent it, or ask us for a new one."
        ),
    ),
    404: (
        N_("We could not find your details"),
        N_("Please ask us for a new link."),
    ),
    409: (
        N_("This choice has changed"),
        N_("The information on this page has been updated. Please open your link again."),
    ),
    410: (
        N_("This link has expired"),
        N_(
            "For your protection, links to your privacy choices are valid only for a "
            "limited time. Please ask us for a new link."
        ),
    ),
    422: (
        N_("The page could not be submitted"),
        N_("Please open your link again and repeat your choice."),
    ),
}


@dataclass(frozen=True, slots=True)
class NoticeRow:
    notice: Notice
    title: str
    text: str
    status: Status
    objected: bool


def refusal(lang: Language, status_code: int) -> HTMLResponse:
    title, text = REFUSALS.get(status_code, REFUSALS[403])
    return render_page("preferences/refused.html", lang, status_code, title=title, text=text)


def _status(facts: ConsentFacts, notice: Notice) -> Status:
    rows = {(d.purpose, d.recipient): d for d in facts.decisions}
    found = [rows.get((p, notice.recipient)) for p in notice.purposes]
    if any(d is not None and d.status == "withdraw" for d in found):
        return "withdrawn"
    if found and all(d is not None and d.active_at(facts.at) for d in found):
        return "granted"
    if any(d is not None and d.status == "grant" for d in found):
        return "expired"
    return "undecided"


def _open(services: PageServices, token: str) -> CustomerRef:
    claims = services.links.verify(token)
    return services.consent.resolve_customer(claims.public_id)


def _fallback_language(request: Request, error: PrivaultError) -> Language:
    if isinstance(error, InvalidLinkError) and error.lang is not None:
        return error.lang
    return negotiate(request.headers.get("accept-language"))


def _page(
    services: PageServices,
    customer: CustomerRef,
    token: str,
    *,
    status_code: int = 200,
    done: str | None = None,
    error: str | None = None,
) -> Response:
    lang = parse_language(customer.language)
    gettext = translator(lang).gettext
    consent = services.consent
    facts = consent.customer_consent_state(customer.id)
    notices = [
        NoticeRow(
            notice=n,
            title=n.title(lang),
            text=n.text(lang),
            status=_status(facts, n),
            objected=any(facts.objects_to(p) for p in n.purposes),
        )
        for n in consent.notices()
    ]
    proof = consent.proof(customer.id)
    history = [
        {
            "when": e.occurred_at.strftime("%Y-%m-%d %H:%M UTC"),
            "action": gettext(ACTION_LABELS[e.action]),
            "notice": e.notice.title(lang) if e.notice is not None else "",
            "version": e.notice.version if e.notice is not None else None,
            "channel": gettext(CHANNEL_LABELS.get(e.channel, e.channel)),
            "action_code": e.action,
        }
        for e in reversed(proof.events)
    ]

    def render(csrf: str) -> Response:
        return render_page(
            "preferences/page.html",
            lang,
            status_code,
            token=token,
            csrf=csrf,
            notices=notices,
            history=history,
            restricted=facts.restricted,
            done=DONE_MESSAGES.get(done or ""),
            error=error,
        )

    return services.csrf.issue(FORM, render)


@router.get("/{token}", response_class=HTMLResponse)
def preference_centre(request: Request, token: str, done: str | None = None) -> Response:
    services = page_services(request)
    try:
        customer = _open(services, token)
    except PrivaultError as error:
        return refusal(_fallback_language(request, error), _code(error))
    return _page(services, customer, token, done=done)


@router.post("/{token}")
def change_preference(
    request: Request,
    token: str,
    csrf: str = Form(default=""),
    notice_id: str = Form(default=""),
    action: str = Form(default=""),
) -> Response:
    services = page_services(request)
    try:
        customer = _open(services, token)
    except PrivaultError as error:
        return refusal(_fallback_language(request, error), _code(error))
    try:
        services.csrf.verify(FORM, request.cookies, csrf)
    except FormExpired:
        return _page(services, customer, token, status_code=403, error=FORM_EXPIRED)
    lang = parse_language(customer.language)
    if action not in ("grant", "withdraw") or not notice_id.isdigit():
        return refusal(lang, 422)
    current = {n.id: n for n in services.consent.notices()}
    notice = current.get(int(notice_id))
    if notice is None:  # an older version, or none at all: show the current page again
        return refusal(lang, 409)
    submission = json.dumps(
        {
            "link": hashlib.sha256(token.encode()).hexdigest(),
            "notice": notice.id,
            "action": action,
            "at": services.clock.now().isoformat(),
            "user_agent": request.headers.get("user-agent", ""),
        },
        sort_keys=True,
    )
    try:
        for purpose in notice.purposes:
            services.consent.record(
                customer.id,
                purpose,
                "grant" if action == "grant" else "withdraw",
                notice=notice,
                channel="web",
                actor="customer",
                recipient=notice.recipient,
                evidence=submission,
            )
    except PrivaultError as error:
        return refusal(lang, _code(error))
    return RedirectResponse(
        f"{request.url.path}?done={action}", status_code=303, headers={"Cache-Control": "no-store"}
    )


def _code(error: PrivaultError) -> int:
    if isinstance(error, NotFound):
        return 404
    return error.http_status if error.http_status in REFUSALS else 403
