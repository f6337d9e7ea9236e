"""Notifications to compliance: a reported incident reaches a local SMTP sink and a local
webhook receiver within seconds, signed; a receiver that is down gets retries and the
incident shows the failure."""

from __future__ import annotations

import json
import time

from privault.incidents.notify import SIGNATURE_HEADER, sign, verify_signature
from tests.incidents.conftest import Factory
from tests.incidents.receivers import free_port, smtp_sink, webhook_receiver

SECRET = "whsec-test-0123456789"


def test_report_reaches_mail_and_webhook_with_a_valid_signature(make_service: Factory) -> None:
    with smtp_sink() as (sink, port), webhook_receiver() as (hook, url):
        service = make_service(
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_from="privault@company.example",
            incident_compliance_emails=("compliance@company.example",),
            incident_webhook_urls=(url,),
            incident_webhook_secret=SECRET,
        )
        started = time.monotonic()
        view = service.report(
            reporter="jana.dvorakova",
            description="A list left the building.",
            estimated_customers=40,
        )
        assert hook.event.wait(5)
        deadline = time.monotonic() + 5
        while not sink.messages and time.monotonic() < deadline:
            time.sleep(0.05)
        assert time.monotonic() - started < 5
    assert len(sink.messages) == 1
    message = sink.messages[0]
    assert view.id in str(message["Subject"])
    assert message["To"] == "compliance@company.example"
    headers, body = hook.requests[0]
    assert verify_signature(SECRET.encode(), headers[SIGNATURE_HEADER.lower()], body)
    assert not verify_signature(b"another key", headers[SIGNATURE_HEADER.lower()], body)
    timestamp = int(headers[SIGNATURE_HEADER.lower()].split(",")[0][2:])
    assert headers[SIGNATURE_HEADER.lower()] == sign(SECRET.encode(), timestamp, body)
    payload = json.loads(body)
    assert payload["event"] == "incident.opened"
    assert payload["incident"]["id"] == view.id
    assert payload["incident"]["estimated_customers"] == 40
    assert "description" not in payload["incident"] and "reporter" not in payload["incident"]
    sent = [e for e in service.timeline(view.id) if e.kind == "notification_sent"]
    assert {e.data["channel"] for e in sent} == {"smtp", "webhook"}


def test_a_receiver_that_is_down_gets_retries_and_the_failure_shows(
    make_service: Factory,
) -> None:
    dead = f"http://127.0.0.1:{free_port()}/hook"
    service = make_service(
        incident_webhook_urls=(dead,),
        incident_webhook_secret=SECRET,
        incident_webhook_attempts=4,
        incident_webhook_backoff_seconds=0.01,
    )
    view = service.report(reporter="jana.dvorakova", description="Customer list on a USB stick.")
    failed = [e for e in service.timeline(view.id) if e.kind == "notification_failed"]
    assert len(failed) == 1
    assert failed[0].data["attempts"] == 4 and failed[0].data["channel"] == "webhook"
    assert failed[0].data["error"] == "ConnectError"


def test_server_errors_are_retried_with_growing_delays(make_service: Factory) -> None:
    with webhook_receiver(status=503) as (hook, url):
        service = make_service(
            incident_webhook_urls=(url,),
            incident_webhook_secret=SECRET,
            incident_webhook_attempts=3,
        )
        delays: list[float] = []
        assert service.notifier is not None
        service.notifier.sleep = delays.append  # type: ignore[attr-defined]
        view = service.report(reporter="jana.dvorakova", description="Odd export.")
    assert len(hook.requests) == 3
    assert delays == [0.01, 0.02]
    assert len({h["x-privault-delivery"] for h, _ in hook.requests}) == 1
    failed = [e for e in service.timeline(view.id) if e.kind == "notification_failed"]
    assert failed[0].data["error"] == "http_503"


def test_missing_secret_and_smtp_are_failures_in_the_timeline(make_service: Factory) -> None:
    service = make_service(
        incident_webhook_urls=("http://127.0.0.1:9/x",),
        incident_compliance_emails=("compliance@company.example",),
    )
    view = service.report(reporter="jana.dvorakova", description="Something happened.")
    errors = sorted(
        e.data["error"] for e in service.timeline(view.id) if e.kind == "notification_failed"
    )
    assert errors == ["config_error", "no_secret"]
