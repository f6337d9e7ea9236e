"""Every server-rendered page on one app: ``mount_pages(app, services)``."""

from __future__ import annotations

from fastapi import FastAPI

from privault.console import preferences, report
from privault.console.services import PageServices


def mount_pages(app: FastAPI, services: PageServices) -> None:
    """The preference centre (``/preferences/{token}``) and the incident report form
    (``/incidents/report``), using ``services`` (kept on ``app.state.pages``)."""
    app.state.pages = services
    app.include_router(preferences.router)
    app.include_router(report.router)
