"""What the pages use, handed over by whoever builds the app (the composition root).

The pages never build a service: ``mount_pages`` (``console.routes``) keeps one
``PageServices`` on ``app.state.pages``, and each request reads it from there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from starlette.requests import Request

from privault.clock import Clock
from privault.consent.links import LinkSigner
from privault.consent.service import ConsentService
from privault.console.csrf import Csrf
from privault.incidents.service import IncidentService


class KeyOwner(Protocol):
    @property
    def principal(self) -> str: ...


class KeyChecker(Protocol):
    """Who an ``Authorization: Bearer pv_...`` value belongs to; raises a
    ``PrivaultError`` for a missing, malformed or revoked key (the API's
    ``Authenticator``)."""

    def authenticate(self, authorization: str | None) -> KeyOwner: ...


@dataclass(frozen=True, slots=True)
class PageServices:
    consent: ConsentService  # the preference centre reads and records through it
    links: LinkSigner  # checks the preference centre's signed links
    incidents: IncidentService  # the report form files reports through it
    keys: KeyChecker  # the report form's reporter is the owner of the key typed in
    csrf: Csrf  # every form
    clock: Clock


def page_services(request: Request) -> PageServices:
    found = request.app.state.pages
    assert isinstance(found, PageServices)
    return found
