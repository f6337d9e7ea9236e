"""The one place where failures become ``application/problem+json`` (RFC 9457).

Every error a client can cause is a 4xx with a stable ``code`` and a ``detail`` in the
language negotiated from ``Accept-Language`` (en, cs, ur).  Anything unexpected is a
500 that says only that something went wrong: no exception text, no stack, no input
echoed -- the request may have carried customer data, so nothing of it is repeated.
A refusal by policy (``AccessDenied``) also carries the decision's reason codes and
the localized explanation, which names the rule and the lawful way forward.
"""

from __future__ import annotations

import logging
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from privault.errors import N_, AccessDenied, PrivaultError, RequestTimeout
from privault.i18n import negotiate, translator
from privault.policy import Decision, explain

PROBLEM_JSON: Final = "application/problem+json"
log = logging.getLogger("privault.api")


# Messages for failures that are not a ``PrivaultError``: code -> (status, msgid).
HTTP_PROBLEMS: Final[dict[int, tuple[str, str]]] = {
    400: ("bad_request", N_("The request could not be read; send UTF-8 JSON as documented.")),
    401: ("unauthenticated", N_("Missing or malformed API key.")),
    403: ("forbidden", N_("This is not allowed.")),
    404: ("not_found", N_("There is no such endpoint; see the API description at /docs.")),
    405: ("method_not_allowed", N_("This endpoint does not accept that HTTP method.")),
    406: ("not_acceptable", N_("The requested response format is not available.")),
    413: ("payload_too_large", N_("The request body is too large.")),
    415: ("unsupported_media_type", N_("Send the request body as application/json.")),
}
BODY_PARSE_ERROR: Final = "There was an error parsing the body"  # FastAPI's own detail
INVALID_JSON: Final = N_("The request body is not valid JSON (UTF-8).")
INVALID_REQUEST: Final = N_(
    "The request is not valid; the 'errors' member names each field that is wrong."
)
INTERNAL: Final = N_(
    "Something went wrong on our side and was logged; no data was returned. Please try "
    "again later, and tell the privacy team if it keeps happening."
)


def problem_response(
    request: Request,
    status: int,
    code: str,
    detail: str,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"urn:privault:problem:{code}",
        "title": code.replace("_", " "),
        "status": status,
        "code": code,
        "detail": detail,
    }
    body.update(extra or {})
    response = JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)
    response.headers["Content-Language"] = negotiate(request.headers.get("accept-language"))
    response.headers["Cache-Control"] = "no-store"
    return response


def _lang(request: Request) -> str:
    return negotiate(request.headers.get("accept-language"))


def privault_problem(request: Request, error: PrivaultError) -> JSONResponse:
    lang = _lang(request)
    status = error.http_status
    if status >= 500 and not isinstance(error, RequestTimeout):
        # Store and crypto failures: say what kind, never what exactly.
        log.warning("request failed: %s (%s)", error.code, type(error).__name__)
        detail = (
            error.localized(lang)
            if error.code in ("audit_unavailable",)
            else (translator(lang).gettext(INTERNAL))
        )
        return problem_response(request, status, error.code, detail)
    extra: dict[str, Any] = {}
    headers: dict[str, str] | None = None
    if isinstance(error, AccessDenied) and isinstance(error.decision, Decision):
        decision = error.decision
        extra = {
            "reasons": sorted(decision.codes),
            "rules": sorted(decision.rules),
            "policy": decision.policy,
            "explanation": explain(decision, lang).as_dict(),
        }
    if error.code == "unauthenticated":
        headers = {"WWW-Authenticate": 'Bearer realm="privault"'}
    return problem_response(request, status, error.code, error.localized(lang), extra, headers)


async def _privault_handler(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, PrivaultError)
    return privault_problem(request, error)


async def _validation_handler(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    gettext = translator(_lang(request)).gettext
    problems = error.errors()
    if any(item.get("type") == "json_invalid" for item in problems):
        return problem_response(request, 400, "invalid_json", gettext(INVALID_JSON))
    # Name where and what kind of error -- never the input, which may be customer data.
    errors = [
        {
            "loc": [str(part) for part in item.get("loc", ())],
            "type": str(item.get("type", "invalid")),
        }
        for item in problems[:50]
    ]
    return problem_response(
        request, 422, "invalid_request", gettext(INVALID_REQUEST), {"errors": errors}
    )


async def _http_handler(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    status = error.status_code
    code, message = HTTP_PROBLEMS.get(status, ("http_error", HTTP_PROBLEMS[400][1]))
    if status == 400 and error.detail == BODY_PARSE_ERROR:  # e.g. a body that is not UTF-8
        code, message = "invalid_json", INVALID_JSON
    headers = dict(error.headers or {})
    if status == 405 and "allow" not in {k.lower() for k in headers}:
        headers = {}
    return problem_response(
        request, status, code, translator(_lang(request)).gettext(message), headers=headers or None
    )


async def _unexpected_handler(request: Request, error: Exception) -> JSONResponse:
    # The type only: an exception's text could quote the data it choked on.
    log.error("unexpected %s on %s %s", type(error).__name__, request.method, request.url.path)
    return problem_response(
        request, 500, "internal_error", translator(_lang(request)).gettext(INTERNAL)
    )


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(PrivaultError, _privault_handler)
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(StarletteHTTPException, _http_handler)
    app.add_exception_handler(Exception, _unexpected_handler)
