"""Fixtures of the incident tests: a service over the test vault, with settings of
the test's choosing (SMTP sink, webhooks, thresholds)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from privault.incidents.notify import Notifier
from privault.incidents.service import IncidentService
from privault.runtime import Vault
from privault.settings import Settings

Factory = Callable[..., IncidentService]


@pytest.fixture
def make_service(vault: Vault) -> Factory:
    """``make_service(**settings)``: an IncidentService whose vault has those settings;
    webhooks retry fast (backoff 10 ms) unless told otherwise."""

    def build(*, notifier: bool = True, **overrides: Any) -> IncidentService:
        overrides.setdefault("incident_webhook_backoff_seconds", 0.01)
        settings = Settings.model_validate({**vault.settings.model_dump(), **overrides})
        configured = dataclasses.replace(vault, settings=settings)
        service = configured.incidents
        service.notifier = Notifier(settings) if notifier else None
        return service

    return build


@pytest.fixture
def service(make_service: Factory) -> IncidentService:
    return make_service(notifier=False)
