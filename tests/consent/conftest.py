"""Fixtures for the consent slice: a service over the test vault, notices, customers."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
import uvicorn

from privault.api.app import create_app
from privault.audit import AuditLog
from privault.cli.app import _register
from privault.cli.app import app as cli_app
from privault.clock import FixedClock
from privault.consent.schemas import LocalizedText, Notice, NoticeDraft
from privault.consent.service import ConsentService
from privault.customers.service import CustomerRef
from privault.runtime import Vault
from privault.settings import Settings

if not any(group.name == "consent" for group in cli_app.registered_groups):
    _register()  # the sub-commands, once per test session


@pytest.fixture
def consent(vault: Vault) -> ConsentService:
    return ConsentService(vault.engine, vault.taxonomy, vault.clock, AuditLog(vault))


def draft(
    key: str,
    purposes: tuple[str, ...],
    *,
    recipient: str | None = None,
    expiry_months: int | None = None,
) -> NoticeDraft:
    return NoticeDraft(
        key=key,
        purposes=purposes,
        recipient=recipient,
        title=LocalizedText(en=f"{key} (en)", cs=f"{key} (cs)", ur=f"{key} (ur)"),
        text=LocalizedText(
            en=f"We would like to use your data for {key}.",
            cs=f"Rádi bychom vaše údaje použili pro {key}.",
            ur=f"ہم آپ کا ڈیٹا {key} کے لیے استعمال کرنا چاہتے ہیں۔",
        ),
        expiry_months=expiry_months,
    )


@pytest.fixture
def marketing_notice(consent: ConsentService) -> Notice:
    return consent.add_notice(draft("marketing", ("marketing",)), created_by="dpo")


def _letters(number: int) -> str:
    return "".join(chr(ord("a") + int(d)) for d in str(number))


@pytest.fixture
def make_customers(vault: Vault) -> Callable[..., list[CustomerRef]]:
    def make(count: int, language: str = "en") -> list[CustomerRef]:
        return [
            vault.customers.create(
                {"last_name": "Tester" + _letters(i), "email": f"person{i}.{language}@example.com"},
                language=language,
            )
            for i in range(count)
        ]

    return make


@dataclass
class LiveServer:
    base_url: str
    settings: Settings
    app_vault: Vault


@pytest.fixture
def live_server(vault: Vault, clock: FixedClock) -> Iterator[LiveServer]:
    """The real app under uvicorn on 127.0.0.1 in a thread, sharing the test's clock."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    base_url = f"http://127.0.0.1:{port}"
    settings = vault.settings.model_copy(update={"public_base_url": base_url})
    app = create_app(settings, clock)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield LiveServer(base_url, settings, app.state.vault)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
