"""Mount the REST API (``/api/v1``) on the app: routers, problem handlers, limits.

Called once by ``create_app``; everything the routers need is built here from the
vault the app opened, so each uvicorn worker builds its own (no shared state beyond
the database).
"""

from __future__ import annotations

from typing import Final

from fastapi import FastAPI

from privault.access.reads import REQUEST_TIMEOUT_SECONDS
from privault.api.direct import DirectRead
from privault.api.limits import MAX_BODY_BYTES, BodySizeLimit
from privault.api.routes import access, audit, consent, customers, policy, principals, scan
from privault.api.services import ApiServices
from privault.runtime import Vault

API_PREFIX: Final[str] = "/api/v1"
PROBLEM_RESPONSES: Final[dict[int | str, dict[str, object]]] = {
    401: {"description": "Missing, malformed or revoked API key (problem+json)."},
    422: {"description": "The request is not valid (problem+json naming the fields)."},
}


def mount_api(
    app: FastAPI,
    vault: Vault,
    *,
    max_body_bytes: int = MAX_BODY_BYTES,
    request_timeout: float = REQUEST_TIMEOUT_SECONDS,
) -> ApiServices:
    api = ApiServices.build(vault)
    api.request_timeout = request_timeout
    app.state.api = api
    for module in (customers, access, consent, policy, audit, principals, scan):
        app.include_router(module.router, prefix=API_PREFIX, responses=PROBLEM_RESPONSES)
    app.add_middleware(BodySizeLimit, max_bytes=max_body_bytes)
    app.add_middleware(DirectRead, prefix=API_PREFIX)
    return api
