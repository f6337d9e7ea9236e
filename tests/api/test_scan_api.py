"""``POST /api/v1/scan``: the same verdict as ``privault scan --json``, audited, in the
OpenAPI schema; malformed input is a 4xx problem, never a 500."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from tests.api.s1_world import CONSENTING, CUSTOMERS, MARKETING, SUPPORT, World, auth

EVERYONE = [c[1] for c in CUSTOMERS]


def test_s1_egress_over_http(world: World, client: TestClient) -> None:
    keys = world.keys
    leak = "name,email\n" + "".join(f"{c[0]} Testová,{c[1]}\n" for c in CUSTOMERS)
    answer = client.post(
        "/api/v1/scan",
        json={"text": leak, "name": "leak.csv", "recipient": "tomas.kral", "purpose": SUPPORT},
        headers=auth(keys["jana.dvorakova"], "cs"),
    )
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["verdict"]["decision"] == "block"
    assert report["our_customers"]["customers"] == 5
    assert report["verdict"]["asker"] == "jana.dvorakova"
    assert all(e not in answer.text for e in EVERYONE)
    entries = world.vault.audit.entries(limit=5)
    scanned = [e for e in entries if e.entry.action == "egress.scan"]
    assert scanned and scanned[0].seq == report["verdict"]["audit_seq"]
    assert scanned[0].entry.details["decision"] == "block"

    # the marketing colleague, as a file upload: the consenting customers may go
    upload = client.post(
        "/api/v1/scan",
        files={"file": ("list.txt", "\n".join(EVERYONE).encode())},
        data={"recipient": "ayesha.khan", "purpose": MARKETING},
        headers=auth(keys["ayesha.khan"], "ur"),
    )
    assert upload.status_code == 200, upload.text
    verdict = upload.json()["verdict"]
    assert verdict["decision"] == "redact"
    assert verdict["explanation"]["lang"] == "ur" and verdict["explanation"]["direction"] == "rtl"
    assert verdict["narrow"]["customers"] == len(CONSENTING)
    allowed = client.post(
        "/api/v1/scan",
        json={"text": "\n".join(CONSENTING), "recipient": "ayesha.khan", "purpose": MARKETING},
        headers=auth(keys["ayesha.khan"]),
    ).json()
    assert allowed["verdict"]["decision"] == "allow"
    clean = client.post(
        "/api/v1/scan",
        json={"text": "Lunch at noon?", "external": "friend@gmail.example"},
        headers=auth(keys["ayesha.khan"]),
    ).json()
    assert (clean["verdict"]["decision"], clean["our_customers"]["customers"]) == ("allow", 0)


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"content": b"{not json", "headers": {"content-type": "application/json"}}, 422),
        ({"json": {"text": "x", "purpose": "Not A Purpose!"}}, 422),
        ({"json": {"text": "x", "surprise": 1}}, 422),
        ({"json": {"text": 3}}, 422),
        ({"json": ["a list"]}, 422),
        ({"json": {"text": "x", "recipient": "a", "external": "b@c.d"}}, 422),
        ({"content": b"plain", "headers": {"content-type": "text/plain"}}, 422),
        ({"files": {"other": ("a.txt", b"x")}}, 422),
        ({"files": {"file": ("a.txt", b"x")}, "data": {"purpose": "???"}}, 422),
        ({"json": {"text": "x" * 2_000_000}}, 413),
    ],
)
def test_malformed_scans_are_4xx_problems(
    world: World, client: TestClient, kwargs: dict[str, object], status: int
) -> None:
    headers = {**auth(world.keys["jana.dvorakova"]), **kwargs.pop("headers", {})}  # type: ignore[dict-item]
    answer = client.post("/api/v1/scan", headers=headers, **kwargs)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")


def test_scan_needs_a_key(client: TestClient) -> None:
    assert client.post("/api/v1/scan", json={"text": "x"}).status_code == 401


def test_scan_is_in_the_openapi_schema(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    operation = schema["paths"]["/api/v1/scan"]["post"]
    assert set(operation["requestBody"]["content"]) == {"application/json", "multipart/form-data"}
    ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/ScanOut"}
    verdict = schema["components"]["schemas"]["VerdictOut"]["properties"]
    assert verdict["decision"]["enum"] == ["allow", "redact", "block"]
    assert "narrow" in verdict
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert {"text", "recipient", "external", "purpose", "match"} <= set(body["properties"])
    json.dumps(schema)
