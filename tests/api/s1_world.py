"""The S1 world over HTTP: a vault with a few customers and their choices, API keys for
every principal of the example policy, and the app served by uvicorn in a thread on
127.0.0.1 (real sockets) or driven in-process.  Shared by ``tests/api`` and
``tests/client``.  The values here are made up; nothing is printed or snapshotted."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn
from fastapi import FastAPI

from privault.access.principals import PrincipalService
from privault.api.app import create_app
from privault.audit import AuditLog
from privault.clock import Clock
from privault.consent.schemas import LocalizedText, NoticeDraft
from privault.consent.service import ConsentService
from privault.policy import load_policy
from privault.runtime import Vault
from privault.settings import Settings

MARKETING = "marketing.communications.email"
SUPPORT = "essential.service.operations.support"
OPERATIONS = "essential.service.operations"
LEGAL = "essential.legal_obligation"

# (first name, e-mail, consents to marketing, objects to marketing, shares with parcelfast)
CUSTOMERS = [
    ("Jana", "jana@example.com", True, False, True),
    ("Petr", "petr@example.com", True, False, False),
    ("Zainab", "zainab@example.org", False, False, False),
    ("Oliver", "oliver@example.net", True, True, False),
    ("Eva", "eva@example.com", False, False, False),
]
CONSENTING = ["jana@example.com", "petr@example.com"]


def _text(en: str, cs: str, ur: str) -> LocalizedText:
    return LocalizedText(en=en, cs=cs, ur=ur)


@dataclass
class World:
    vault: Vault
    keys: dict[str, str]
    ids: dict[str, str]  # e-mail -> public id


def build_world(vault: Vault) -> World:
    consent = ConsentService(vault.engine, vault.taxonomy, vault.clock, AuditLog(vault))
    offers = _text("Offers by e-mail.", "Nabídky e-mailem.", "ای میل کے ذریعے پیشکشیں۔")
    newsletter = consent.add_notice(
        NoticeDraft(key="newsletter", purposes=(MARKETING,), title=offers, text=offers),
        created_by="dpo",
    )
    parcels = _text(
        "Parcels by ParcelFast.", "Zásilky přes ParcelFast.", "پارسل فاسٹ کے ذریعے پارسل۔"
    )
    sharing = consent.add_notice(
        NoticeDraft(
            key="parcelfast",
            purposes=("third_party_sharing",),
            recipient="parcelfast",
            title=parcels,
            text=parcels,
        ),
        created_by="dpo",
    )
    ids = {}
    for first, email, consents, objects, shares in CUSTOMERS:
        ref = vault.customers.create(
            {
                "first_name": first,
                "last_name": "Testová",
                "email": email,
                "phone": "602 123 456",
                "city": "Brno",
                "country": "CZ",
                "date_of_birth": "1984-05-17",
                "customer_number": "C-100200",
                "iban": "CZ6508000000192000145399",
            }
        )
        ids[email] = ref.public_id
        if consents:
            consent.grant(ref.id, MARKETING, notice=newsletter, actor="test", channel="web")
        if objects:
            consent.object(ref.id, "marketing", actor="test", channel="web")
        if shares:
            consent.grant(
                ref.id,
                "third_party_sharing",
                notice=sharing,
                recipient="parcelfast",
                actor="test",
                channel="paper",
            )
    policy = load_policy(vault.settings.policy_path, vault.taxonomy)
    service = PrincipalService(vault.engine, vault.clock)
    keys = {name: service.issue_key(policy, name).secret for name in policy.principals}
    return World(vault, keys, ids)


def auth(key: str, lang: str = "en") -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "Accept-Language": lang}


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Run ``app`` under uvicorn on 127.0.0.1 in a thread; yields the base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def make_app(settings: Settings, clock: Clock) -> FastAPI:
    return create_app(settings, clock)
