"""The application factory.  Settings come in, nothing is read at import time.

``create_app`` opens the vault (the composition root) once, keeps it on
``app.state.vault`` for the routers and pages, and closes it on shutdown.  Every
failure becomes an ``application/problem+json`` response in one place
(``api.problems``) -- a client error is a 4xx with a clear message, and no internals
are echoed.
The pages people read (preference centre, incident report form) come from
``privault.console`` and render their own refusals.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI

from privault.access.reads import REQUEST_TIMEOUT_SECONDS
from privault.api.limits import WAL_CHECKPOINT_SECONDS
from privault.api.problems import install_problem_handlers
from privault.clock import Clock
from privault.runtime import open_vault
from privault.settings import Settings


def create_app(settings: Settings, clock: Clock | None = None) -> FastAPI:
    """The privault web app over the vault that ``settings`` describe."""
    serving = {
        # No statement of a request outlives the request: after a 504 the abandoned
        # thread's query is cancelled by PostgreSQL instead of running on.
        "statement_timeout_seconds": REQUEST_TIMEOUT_SECONDS,
        # No request's commit copies the WAL into the database (store.checkpoint).
        "sqlite_checkpoint_interval_seconds": WAL_CHECKPOINT_SECONDS,
    }
    settings = settings.model_copy(
        update={name: value for name, value in serving.items() if getattr(settings, name) is None}
    )
    vault = open_vault(settings, clock)
    try:
        vault.warm()
    except BaseException:
        vault.close()
        raise

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Blocking work (database, crypto) runs on this many threads per worker.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.api_threads
        # What the worker built at start-up (vault, policy, taxonomy, routes) lives as
        # long as it does: moved out of the collector's sight, a full collection under
        # load scans only what requests allocate (p99 of audited reads 130-150 ms -> ~60).
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            vault.close()

    # FastAPI's own OpenTelemetry hooks stay off: they would record validation failures
    # and exception messages (which can quote request data) to whatever exporter the
    # environment configures, and they cost a check on every request.
    app = FastAPI(
        title="privault",
        lifespan=lifespan,
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.state.vault = vault
    install_problem_handlers(app)
    from privault.api.rest import mount_api

    api = mount_api(app, vault)
    from privault.api.routes import incidents  # R7: the JSON API (the form is a page)
    from privault.console.csrf import Csrf
    from privault.console.routes import mount_pages
    from privault.console.services import PageServices

    app.state.incidents = vault.incidents
    app.include_router(incidents.router, prefix="/api/v1")
    mount_pages(
        app,
        PageServices(
            consent=api.consent,
            links=vault.links,
            incidents=app.state.incidents,
            keys=api.auth,
            csrf=Csrf(vault.keyring),
            clock=vault.clock,
        ),
    )
    return app
