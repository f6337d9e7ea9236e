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
