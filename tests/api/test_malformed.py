"""Malformed requests get a 4xx problem+json in the caller's language, never a 500; and
a property-based fuzz run over the OpenAPI document finds no server error."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from tests.api.s1_world import MARKETING, World, auth

CASES: list[tuple[str, str, bytes, dict[str, str], int, str]] = [
    (
        "POST",
        "/api/v1/exports",
        b"{not json",
        {"content-type": "application/json"},
        400,
        "invalid_json",
    ),
    (
        "POST",
        "/api/v1/exports",
        b'{"purpose": "\xff\xfe", "fields": ["email"]}',
        {"content-type": "application/json"},
        400,
        "invalid_json",
    ),
    (
        "POST",
        "/api/v1/exports",
        b'{"purpose": 5, "fields": "email"}',
        {"content-type": "application/json"},
        422,
        "invalid_request",
    ),
    (
        "POST",
        "/api/v1/exports",
        b'{"purpose": "x", "fields": []}',
        {"content-type": "application/json"},
        422,
        "invalid_request",
    ),
    (
        "POST",
        "/api/v1/exports",
        b"purpose=x",
        {"content-type": "text/plain"},
        422,
        "invalid_request",
    ),
    (
        "POST",
        "/api/v1/exports",
        b"[]",
        {"content-type": "application/json"},
        422,
        "invalid_request",
    ),
    ("GET", "/api/v1/nowhere", b"", {}, 404, "not_found"),
    ("PUT", "/api/v1/exports", b"", {}, 405, "method_not_allowed"),
]


@pytest.mark.parametrize(("method", "path", "body", "headers", "status", "code"), CASES)
def test_malformed_requests_are_4xx_problems(
    world: World,
    client: TestClient,
    method: str,
    path: str,
    body: bytes,
    headers: dict[str, str],
    status: int,
    code: str,
) -> None:
    answer = client.request(
        method, path, content=body, headers={**auth(world.keys["ayesha.khan"], "cs"), **headers}
    )
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["code"] == code and problem["status"] == status
    assert problem["detail"] and answer.headers["content-language"] == "cs"
    assert "Traceback" not in answer.text


def test_unknown_purposes_and_fields_are_refused_by_policy(
    world: World, client: TestClient
) -> None:
    headers = auth(world.keys["ayesha.khan"], "ur")
    for body in (
        {"purpose": "marketing.nonsense", "fields": ["email"]},
        {"purpose": MARKETING, "fields": ["shoe_size"]},
    ):
        answer = client.post("/api/v1/exports", json=body, headers=headers)
        assert answer.status_code == 403, answer.text
        problem = answer.json()
        assert {"unknown_purpose", "unknown_field"} & set(problem["reasons"])
        assert problem["explanation"]["direction"] == "rtl"


def test_oversized_bodies_are_refused_before_reading(world: World, client: TestClient) -> None:
    headers = {**auth(world.keys["ayesha.khan"]), "content-type": "application/json"}
    huge = b'{"purpose": "' + b"a" * (2 * 1024 * 1024) + b'", "fields": ["email"]}'
    answer = client.post("/api/v1/exports", content=huge, headers=headers)
    assert answer.status_code == 413
    assert answer.json()["code"] == "payload_too_large"

    def chunks() -> Iterator[bytes]:
        for _ in range(40):
            yield b"x" * 65536

    streamed = client.post("/api/v1/exports", content=chunks(), headers=headers)
    assert streamed.status_code == 413


def test_values_never_echo_into_problems(world: World, client: TestClient) -> None:
    headers = auth(world.keys["jana.dvorakova"])
    answer = client.post(
        "/api/v1/customers",
        json={
            "purpose": "essential.service.operations.support",
            "values": {"email": "secret.person@example.com", "phone": "not a phone 777"},
        },
        headers=headers,
    )
    assert 400 <= answer.status_code < 500, answer.text
    assert "secret.person" not in answer.text and "777" not in answer.text


def test_schemathesis_finds_no_server_errors(world: World, client: TestClient) -> None:
    """Property-based fuzzing of every operation in the OpenAPI document, with a valid key
    (so requests get past authentication) -- any 5xx fails."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    key = world.keys["sana.malik"]
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]

        @given(case=operation.as_strategy())
        @settings(
            max_examples=10, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        def run(case: schemathesis.Case[Any]) -> None:
            response = case.call(headers={"Authorization": f"Bearer {key}"})
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.path}: {response.status_code}")

        run()
    assert failures == []


def test_control_characters_in_free_text_are_a_clear_422_on_every_store(
    world: World, client: TestClient
) -> None:
    """PostgreSQL cannot store NUL: free text with control characters (but tabs and
    line breaks) is refused with the reason, in the caller's language, on both stores
    -- not a 500 on one of them (schemathesis found it) -- and nothing is written."""
    headers = auth(world.keys["sana.malik"], "cs")
    customer = world.ids["jana@example.com"]
    incident = client.post(
        "/api/v1/incidents",
        json={"description": "Tabs\tand\r\nline breaks are fine."},
        headers=headers,
    )
    assert incident.status_code == 201, incident.text
    at = f"/api/v1/incidents/{incident.json()['id']}"
    before = client.get(at, headers=headers).json()
    consent = f"/api/v1/customers/{customer}/consent"
    for path, body in (
        ("/api/v1/incidents", {"description": "a\x00b"}),
        ("/api/v1/incidents", {"description": "ok", "title": "\x00"}),
        ("/api/v1/incidents", {"description": "ok", "systems": ["crm\x1b[0m"]}),
        (f"{at}/notes", {"text": "note\x00"}),
        (f"{at}/transition", {"status": "triaged", "reason": "\x07"}),
        (f"{at}/assess", {"consequences": "\x00"}),
        (f"{consent}/objections", {"purpose": "marketing", "reason": "x\x00"}),
        (f"{consent}/restriction", {"reason": "\x9b"}),
    ):
        answer = client.post(path, json=body, headers=headers)
        assert answer.status_code == 422, (path, answer.text)
        assert answer.json()["code"] == "invalid_input"
        assert answer.json()["detail"] == "Hodnota obsahuje řídicí znaky."
    after = client.get(at, headers=headers).json()
    assert after == before  # no note, transition or assessment was recorded
    listed = client.get("/api/v1/incidents", headers=headers).json()
    assert len(listed) == 1
    assert client.get(f"{consent}", headers=headers).json()["objections"] == []


def test_an_impossible_time_noticed_is_a_clear_422(world: World, client: TestClient) -> None:
    headers = auth(world.keys["jana.dvorakova"], "ur")
    answer = client.post(
        "/api/v1/incidents",
        json={"description": "Seen long ago.", "noticed_at": "0001-01-01T00:00:00+01:00"},
        headers=headers,
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"] == "پتا چلنے کا وقت بہت پرانا ہے۔"
