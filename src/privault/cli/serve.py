"""``privault serve``: the REST API and the preference centre under uvicorn.

Each worker process builds its own app from the environment (``factory=True`` with an
import string), so settings travel as ``PRIVAULT_*`` variables: ``--home`` becomes
``PRIVAULT_HOME`` before the workers start.
"""

from __future__ import annotations

import os

import typer
from fastapi import FastAPI

from privault.cli.context import state


def app_from_environment() -> FastAPI:
    """The uvicorn factory: ``Settings()`` read from the environment of this worker."""
    from privault.api.app import create_app
    from privault.settings import Settings

    return create_app(Settings())


def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port to listen on."),
    workers: int = typer.Option(1, "--workers", min=1, max=64, help="Worker processes."),
    log_level: str = typer.Option("warning", "--log-level", help="uvicorn's log level."),
) -> None:
    """Serve the REST API (/api/v1, docs at /docs) and the preference centre."""
    import uvicorn

    cli = state(ctx)
    if cli.home is not None:
        os.environ["PRIVAULT_HOME"] = str(cli.home)
    # Fail early, in this process, if the vault cannot be opened.
    from privault.runtime import open_vault

    open_vault(cli.settings()).close()
    uvicorn.run(
        "privault.cli.serve:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        access_log=False,  # URLs hold no data by design, but keep the log quiet and small
        proxy_headers=False,
    )


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
