"""Limits every request lives within: a body size cap and a time limit.

``BodySizeLimit`` is plain ASGI middleware: it refuses a declared ``Content-Length``
over the cap before reading anything, and stops a chunked body as soon as it passes
the cap, so an oversized body is never buffered.  ``offload`` runs the blocking
library call of a non-streaming endpoint in a worker thread under a deadline; a call
that overruns answers 504 (the thread finishes on its own, and anything it returns
is dropped -- fail closed).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any, Final, ParamSpec, TypeVar

import anyio
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from privault.api.problems import PROBLEM_JSON
from privault.errors import N_, BodyTooLarge, RequestTimeout
from privault.i18n import negotiate

MAX_BODY_BYTES: Final[int] = 1024 * 1024
REQUEST_TIMEOUT_SECONDS: Final[float] = 30.0
# A SQLite API worker checkpoints its WAL this often, off the request path.
WAL_CHECKPOINT_SECONDS: Final[float] = 0.2
TOO_LARGE: Final = N_("The request body is larger than %(limit)s bytes.")
TOO_SLOW: Final = N_("The request took too long and was stopped; no data was returned.")

P = ParamSpec("P")
T = TypeVar("T")


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = None
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
        if declared is not None and (declared < 0 or declared > self.max_bytes):
            await self._refuse(scope, send)
            return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    # An HTTPException passes FastAPI's body parsing unchanged -> 413.
                    raise HTTPException(413)
            return message

        await self.app(scope, limited_receive, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        lang = "en"
        for name, value in scope.get("headers", ()):
            if name == b"accept-language":
                lang = negotiate(value.decode("latin-1"))
        error = BodyTooLarge(TOO_LARGE, limit=self.max_bytes)
        body = json.dumps(
            {
                "type": f"urn:privault:problem:{error.code}",
                "title": "payload too large",
                "status": 413,
                "code": error.code,
                "detail": error.localized(lang),
            },
            ensure_ascii=False,
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", PROBLEM_JSON.encode()),
                    (b"content-length", str(len(body)).encode()),
                    (b"content-language", lang.encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


async def offload(
    timeout: float, function: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs
) -> T:
    """Run a blocking library call in a thread; ``RequestTimeout`` after ``timeout`` s."""
    call = functools.partial(function, *args, **kwargs)
    try:
        with anyio.fail_after(timeout):
            return await anyio.to_thread.run_sync(call, abandon_on_cancel=True)
    except TimeoutError:
        raise RequestTimeout(TOO_SLOW) from None


def timeout_of(state: Any) -> float:
    return float(getattr(state, "request_timeout", REQUEST_TIMEOUT_SECONDS))
