"""The hottest endpoint, served straight from ASGI.

``GET /api/v1/customers/{customer}?purpose=...&fields=...`` is what applications call
on every screen they show.  FastAPI's routing, dependency solving and parameter
validation cost about as much CPU as the audited read itself, so ``DirectRead`` answers
a request that is *plainly well formed* -- exactly these two query parameters, each
matching the route's own patterns, and a key the worker accepted moments ago -- by
calling the same gate function the same way (``ApiServices.read``) and writing the same answer
(``record_response``, or the problem+json of ``privault_problem``).

Anything else -- another method or path, a missing, repeated or malformed parameter,
a key not in the cache -- goes on, untouched, to the FastAPI route in
``routes/access.py``, which documents the endpoint and answers every such request as
before.  So the two can differ only in speed; ``tests/api`` checks that their answers
agree.
"""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from privault.api.auth import authorization
from privault.api.problems import privault_problem
from privault.api.routes.access import (
    FIELDS_MAX_LENGTH,
    FIELDS_PATTERN,
    PUBLIC_ID_PATTERN,
    PURPOSE_MAX_LENGTH,
    PURPOSE_PATTERN,
    record_response,
)
from privault.api.services import ApiServices
from privault.errors import PrivaultError, Unauthenticated

_CUSTOMER: Final = re.compile(PUBLIC_ID_PATTERN)
_PURPOSE: Final = re.compile(PURPOSE_PATTERN)
_FIELDS: Final = re.compile(FIELDS_PATTERN)


class DirectRead:
    """ASGI middleware: the well-formed single-customer read, without the framework."""

    def __init__(self, app: ASGIApp, prefix: str) -> None:
        self.app = app
        self.path = f"{prefix}/customers/"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        read = self._parse(scope) if scope["type"] == "http" else None
        if read is None:
            await self.app(scope, receive, send)
            return
        api, principal, customer, purpose, names = read
        try:
            result = await api.read(principal, purpose, customer, names)
        except PrivaultError as error:
            response: Response = privault_problem(Request(scope), error)
        else:
            response = record_response(result.record, result.summary)
        await response(scope, receive, send)

    def _parse(self, scope: Scope) -> tuple[ApiServices, str, str, str, list[str]] | None:
        """What the request asks, if it is plainly well formed; else None."""
        path: str = scope["path"]
        if scope["method"] != "GET" or not path.startswith(self.path):
            return None
        customer = path[len(self.path) :]
        if not _CUSTOMER.fullmatch(customer):
            return None
        try:
            query = parse_qsl(
                scope["query_string"].decode("ascii"), strict_parsing=True, max_num_fields=3
            )
        except ValueError:  # not ASCII, malformed, or too many parameters
            return None
        params = dict(query)
        if len(query) != 2 or params.keys() != {"purpose", "fields"}:
            return None
        purpose, fields = params["purpose"], params["fields"]
        if len(purpose) > PURPOSE_MAX_LENGTH or not _PURPOSE.fullmatch(purpose):
            return None
        if len(fields) > FIELDS_MAX_LENGTH or not _FIELDS.fullmatch(fields):
            return None
        api = scope["app"].state.api
        assert isinstance(api, ApiServices)
        try:  # one Authorization header (two are refused by the route), a cached key
            caller = api.auth.cached(authorization(scope["headers"]))
        except Unauthenticated:
            return None
        if caller is None:
            return None
        return api, caller.principal, customer, purpose, list(dict.fromkeys(fields.split(",")))
