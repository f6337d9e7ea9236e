"""Telling the compliance team: e-mail (the consent slice's SMTP path) and webhooks.

A webhook is a JSON POST signed like this (so a receiver can check origin and
freshness with the shared key alone)::

    X-Privault-Event: incident.opened
    X-Privault-Delivery: <random id>
    X-Privault-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(key, "<t>.<body>")>

Failed deliveries are retried with exponential backoff (``backoff``, ``2*backoff``,
``4*backoff``...); a 4xx other than 408/429 is final.  Every outcome comes back as a
``Delivery`` which the service writes into the incident's timeline, so a failure to
notify is visible in the incident itself.  Payloads and messages hold ids, codes,
counts and times -- no description, no reporter, no customer data.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import secrets
import smtplib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Any, Final, Protocol
from urllib.parse import urlsplit

import httpx

from privault.consent.flows import Mailer, smtp_mailer
from privault.errors import N_, PrivaultError
from privault.i18n import translator
from privault.incidents.schemas import IncidentView
from privault.incidents.workflow import SOURCE_LABELS, Nature
from privault.settings import Settings

SIGNATURE_HEADER: Final = "X-Privault-Signature"
EVENT_HEADER: Final = "X-Privault-Event"
DELIVERY_HEADER: Final = "X-Privault-Delivery"
RETRYABLE_4XX: Final = frozenset({408, 425, 429})

OPENED: Final = "incident.opened"
WARNING: Final = "incident.deadline_warning"
OVERDUE: Final = "incident.deadline_overdue"

SUBJECTS: Final[dict[str, str]] = {
    OPENED: N_("[privault] New incident %(id)s: %(title)s"),
    WARNING: N_("[privault] %(hours)s hours left to notify the authority: incident %(id)s"),
    OVERDUE: N_("[privault] Overdue: the authority was not notified of incident %(id)s"),
}
BODY: Final = N_(
    "Incident %(id)s\n"
    "Cause: %(source)s\n"
    "Status: %(status)s; severity: %(severity)s; risk: %(risk)s\n"
    "Affected customers (estimate): %(customers)s\n"
    "Aware since: %(aware_at)s\n"
    "Deadline to notify the supervisory authority: %(deadline)s\n"
    "\n"
    "Details: privault incident show %(id)s\n"
)
PREVENTED_BODY: Final = N_(
    "Prevented attempt %(id)s: the transfer was blocked, nothing left.\n"
    "Cause: %(source)s\n"
    "Severity: %(severity)s\n"
    "Customers whose data it held: %(customers)s\n"
    "Review by: %(review_due)s (was the file prepared without a need to know? did the same "
    "content leave another way? If so, convert it into a suspected breach.)\n"
    "\n"
    "Details: privault incident show %(id)s\n"
)


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when is not None else None


def sign(key: bytes, timestamp: int, body: bytes) -> str:
    """The ``X-Privault-Signature`` value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(key, str(timestamp).encode("ascii") + b"." + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify_signature(key: bytes, header: str, body: bytes) -> bool:
    """Receiver side: does ``header`` sign ``body`` under ``key``?"""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    return hmac.compare_digest(sign(key, timestamp, body), header)


@dataclass(frozen=True, slots=True)
class Delivery:
    channel: str  # "smtp" or "webhook"
    target: str  # "smtp" or the webhook's host (never a path with tokens in it)
    ok: bool
    attempts: int
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "target": self.target,
            "ok": self.ok,
            "attempts": self.attempts,
            "error": self.error,
        }


class Transport(Protocol):
    """POSTs a body; returns the HTTP status.  Raises ``OSError``/``httpx.HTTPError``."""

    def post(self, url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> int: ...


class HttpxTransport:
    def post(self, url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> int:
        response = httpx.post(url, content=body, headers=dict(headers), timeout=timeout)
        return response.status_code


class NotifierLike(Protocol):
    def send(
        self, event: str, incident: IncidentView, extra: Mapping[str, Any]
    ) -> list[Delivery]: ...


def _host(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname or '?'}:{parts.port}" if parts.port else (parts.hostname or "?")


class Notifier:
    """Sends incident events to the configured addresses and webhooks."""

    def __init__(
        self,
        settings: Settings,
        *,
        mailer_factory: Callable[[Settings], Mailer] = smtp_mailer,
        transport: Transport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.mailer_factory = mailer_factory
        self.transport = transport or HttpxTransport()
        self.sleep = sleep
        self.wall_clock = wall_clock

    def payload(self, event: str, incident: IncidentView, extra: Mapping[str, Any]) -> bytes:
        breach = incident.nature is Nature.SUSPECTED_BREACH
        data = {
            "event": event,
            "incident": {
                "id": incident.id,
                "source": incident.source.value,
                "status": incident.status.value,
                "severity": incident.severity.value,
                "risk": incident.risk.value,
                "estimated_customers": incident.estimated_customers,
                "estimated_records": incident.estimated_records,
                "nature": incident.nature.value,
                "aware_at": incident.aware_at.isoformat(),
                # a prevented attempt has no Art. 33 deadline, a review date instead
                "deadline": incident.clock.deadline.isoformat() if breach else None,
                "seconds_left": incident.clock.seconds_left if breach else None,
                "review_due": _iso(incident.review_due),
                "investigation_due": _iso(incident.investigation_due),
            },
            **{k: v for k, v in extra.items() if k not in ("event", "incident")},
        }
        return json.dumps(data, sort_keys=True, separators=(",", ":")).encode("utf-8")

    def send(self, event: str, incident: IncidentView, extra: Mapping[str, Any]) -> list[Delivery]:
        deliveries: list[Delivery] = []
        if self.settings.incident_compliance_emails:
            deliveries.append(self._mail(event, incident, extra))
        body = self.payload(event, incident, extra)
        deliveries.extend(self._webhook(url, event, body) for url in self._urls())
        return deliveries

    def _urls(self) -> Sequence[str]:
        return self.settings.incident_webhook_urls

    def _secret(self) -> bytes | None:
        settings = self.settings
        if settings.incident_webhook_secret is not None:
            return settings.incident_webhook_secret.get_secret_value().encode("utf-8")
        if settings.incident_webhook_secret_file is not None:
            try:
                return settings.incident_webhook_secret_file.read_bytes().strip()
            except OSError:
                return None
        return None

    # -- e-mail -----------------------------------------------------------------------

    def message(self, event: str, incident: IncidentView, extra: Mapping[str, Any]) -> EmailMessage:
        lang = self.settings.incident_compliance_language
        gettext = translator(lang).gettext
        title = gettext(incident.title)
        params = {
            "id": incident.id,
            "title": title,
            "hours": extra.get("hours", ""),
            "source": gettext(SOURCE_LABELS[incident.source]),
            "status": incident.status.value,
            "severity": incident.severity.value,
            "risk": incident.risk.value,
            "customers": "?"
            if incident.estimated_customers is None
            else str(incident.estimated_customers),
            "aware_at": incident.aware_at.strftime("%Y-%m-%d %H:%M UTC"),
            "deadline": incident.clock.deadline.strftime("%Y-%m-%d %H:%M UTC"),
            "review_due": incident.review_due.strftime("%Y-%m-%d %H:%M UTC")
            if incident.review_due is not None
            else "?",
        }
        email = EmailMessage()
        email["From"] = self.settings.smtp_from or ""
        email["To"] = ", ".join(self.settings.incident_compliance_emails)
        email["Subject"] = gettext(SUBJECTS.get(event, SUBJECTS[OPENED])) % params
        body = BODY if incident.nature is Nature.SUSPECTED_BREACH else PREVENTED_BODY
        email.set_content(gettext(body) % params)
        email["Content-Language"] = lang
        return email

    def _mail(self, event: str, incident: IncidentView, extra: Mapping[str, Any]) -> Delivery:
        try:
            mailer = self.mailer_factory(self.settings)
        except PrivaultError as error:
            return Delivery("smtp", "smtp", False, 1, error.code)
        try:
            mailer.send_message(self.message(event, incident, extra))
        except (OSError, smtplib.SMTPException) as exc:
            return Delivery("smtp", "smtp", False, 1, type(exc).__name__)
        finally:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                mailer.quit()
        return Delivery("smtp", "smtp", True, 1)

    # -- webhooks ---------------------------------------------------------------------

    def _webhook(self, url: str, event: str, body: bytes) -> Delivery:
        target = _host(url)
        key = self._secret()
        if key is None:
            return Delivery("webhook", target, False, 0, "no_secret")
        attempts = self.settings.incident_webhook_attempts
        delay = self.settings.incident_webhook_backoff_seconds
        delivery_id = secrets.token_hex(8)
        error = "unknown"
        for attempt in range(1, attempts + 1):
            headers = {
                "Content-Type": "application/json",
                EVENT_HEADER: event,
                DELIVERY_HEADER: delivery_id,
                SIGNATURE_HEADER: sign(key, int(self.wall_clock()), body),
            }
            try:
                status = self.transport.post(
                    url, body, headers, self.settings.incident_webhook_timeout_seconds
                )
            except (OSError, httpx.HTTPError) as exc:
                error = type(exc).__name__
            else:
                if 200 <= status < 300:
                    return Delivery("webhook", target, True, attempt)
                error = f"http_{status}"
                if 400 <= status < 500 and status not in RETRYABLE_4XX:
                    return Delivery("webhook", target, False, attempt, error)
            if attempt < attempts:
                self.sleep(delay * 2 ** (attempt - 1))
        return Delivery("webhook", target, False, attempts, error)
