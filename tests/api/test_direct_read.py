"""The single-customer read served straight from ASGI (``privault.api.direct``) answers
exactly as the FastAPI route does, and leaves every request it is not sure of to it."""

from __future__ import annotations

import asyncio
import secrets
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest
from fastapi.testclient import TestClient

import privault.api.direct as direct
from privault.api.limits import quick
from privault.api.services import ApiServices
from privault.runtime import Vault
from privault.store.db import long_writes, write_lock
from tests.api.s1_world import MARKETING, SUPPORT, World, auth


@pytest.fixture
def served_directly(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The customers whose reads ``DirectRead`` served (it calls ``quick``; the route
    imports its own reference, so only the direct path is counted)."""
    seen: list[str] = []
    original = quick

    async def counting(
        timeout: float, engine: Any, function: Callable[..., Any], *args: Any
    ) -> Any:
        seen.append(args[2])
        return await original(timeout, engine, function, *args)

    monkeypatch.setattr(direct, "quick", counting)
    return seen


def _api(client: TestClient) -> ApiServices:
    api = client.app.state.api  # type: ignore[attr-defined]
    assert isinstance(api, ApiServices)
    return api


def _comparable(response: Any) -> tuple[int, str, dict[str, Any]]:
    body = response.json()
    body.get("summary", {}).pop("audit_seq", None)
    return response.status_code, response.headers["content-type"], body


CASES = [  # (principal, customer e-mail or None for an unknown id, purpose, fields, lang)
    ("jana.dvorakova", "jana@example.com", SUPPORT, "email,phone", "en"),
    ("ayesha.khan", "jana@example.com", MARKETING, "email,first_name", "cs"),
    ("ayesha.khan", "zainab@example.org", MARKETING, "email", "ur"),  # no consent: 403
    ("tomas.kral", "petr@example.com", MARKETING, "email,email", "cs"),  # refused: 403
    ("jana.dvorakova", None, SUPPORT, "email", "ur"),  # unknown customer: 404
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}-{c[2]}-{c[4]}")
def test_direct_answers_equal_the_routes(
    world: World,
    client: TestClient,
    served_directly: list[str],
    case: tuple[str, str | None, str, str, str],
) -> None:
    principal, email, purpose, fields, lang = case
    customer = world.ids[email] if email else f"cus_{secrets.token_hex(8)}"
    url = f"/api/v1/customers/{customer}"
    params = {"purpose": purpose, "fields": fields}
    headers = auth(world.keys[principal], lang)
    _api(client).auth.forget()  # a key not seen moments ago goes through FastAPI
    by_route = client.get(url, params=params, headers=headers)
    assert served_directly == []
    by_direct = client.get(url, params=params, headers=headers)
    assert served_directly == [customer]
    assert _comparable(by_direct) == _comparable(by_route)
    assert by_direct.headers.get("content-language") == by_route.headers.get("content-language")
    if by_route.status_code == 200:
        first = by_route.json()["summary"]["audit_seq"]
        assert by_direct.json()["summary"]["audit_seq"] > first  # audited, each of them


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("purpose=essential.service.operations.support", 422),  # fields missing
        # Repeated or extra parameters: FastAPI's own reading of them (the last wins).
        ("purpose=essential.service.operations.support&fields=email&fields=phone", 200),
        ("purpose=essential.service.operations.support&fields=email&extra=1", 200),
        ("purpose=Essential&fields=email", 422),  # not a purpose key
        ("purpose=essential.service.operations.support&fields=e-mail", 422),
        ("purpose=essential.service.operations.support&fields=" + "a" * 5000, 422),
        ("purpose=%FF&fields=email", 422),  # not UTF-8
        ("purpose&fields=email", 422),
    ],
)
def test_anything_unusual_goes_to_the_route(
    world: World, client: TestClient, served_directly: list[str], query: str, status: int
) -> None:
    headers = auth(world.keys["jana.dvorakova"])
    customer = world.ids["jana@example.com"]
    warm = client.get(
        f"/api/v1/customers/{customer}",
        params={"purpose": SUPPORT, "fields": "email"},
        headers=headers,
    )
    assert warm.status_code == 200  # the key is now cached: well-formed reads go direct
    served_directly.clear()
    response = client.get(f"/api/v1/customers/{customer}?{query}", headers=headers)
    assert served_directly == []
    assert response.status_code == status
    if status == 422:
        assert response.headers["content-type"].startswith("application/problem+json")


def test_a_revoked_key_is_refused_at_once_in_the_worker_that_revoked_it(
    world: World, client: TestClient, served_directly: list[str]
) -> None:
    customer = world.ids["jana@example.com"]
    params = {"purpose": SUPPORT, "fields": "email"}
    key = world.keys["jana.dvorakova"]
    assert client.get(f"/api/v1/customers/{customer}", params=params, headers=auth(key)).is_success
    admin = auth(world.keys["sana.malik"])
    page = client.get("/api/v1/principals", params={"limit": 500}, headers=admin)
    assert page.status_code == 200, page.text
    (jana,) = [p for p in page.json()["items"] if p["name"] == "jana.dvorakova"]
    for item in jana["keys"]:
        revoked = client.delete(f"/api/v1/keys/{item['key_id']}", headers=admin)
        assert revoked.status_code == 204, revoked.text
    served_directly.clear()
    refused = client.get(f"/api/v1/customers/{customer}", params=params, headers=auth(key))
    assert refused.status_code == 401
    assert served_directly == []


def test_a_short_call_runs_on_the_loop_unless_long_writes_are_under_way(
    vault: Vault,
) -> None:
    """SQLite: inline, even while another thread holds the writer lock for a short
    write; in a worker thread while an import or key rotation runs (so the event loop
    never waits behind a series of writes).  PostgreSQL: always a thread."""
    threads: list[threading.Thread] = []

    def call() -> int:
        threads.append(threading.current_thread())
        return 7

    def holding(lock: Callable[[], AbstractContextManager[None]]) -> Callable[[], Any]:
        async def run() -> None:
            held, release = threading.Event(), threading.Event()

            def writer() -> None:
                with lock():
                    held.set()
                    release.wait(10)

            other = threading.Thread(target=writer)
            other.start()
            try:
                assert held.wait(10)
                assert await quick(5, vault.engine, call) == 7
            finally:
                release.set()
                other.join(10)

        return run

    asyncio.run(holding(lambda: write_lock(vault.engine))())
    asyncio.run(holding(lambda: long_writes(vault.engine))())
    main = threading.current_thread()
    if vault.engine.dialect.name == "sqlite":
        assert threads[0] is main
        assert threads[1] is not main
    else:
        assert main not in threads
