"""The single-customer read served straight from ASGI (``privault.api.direct``) answers
exactly as the FastAPI route does, and leaves every request it is not sure of to it."""

from __future__ import annotations

import asyncio
import secrets
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import SQLAlchemyError

from privault.api.services import ApiServices
from privault.clock import FixedClock
from privault.store.db import long_writes
from tests.api.s1_world import MARKETING, SUPPORT, World, auth, make_app
from tests.audit.test_fail_closed import make_unwritable


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


def test_reads_run_on_the_loop_unless_long_writes_are_under_way(world: World) -> None:
    """SQLite: on the event loop; in a worker thread while an import or key rotation
    runs (so the loop never waits behind a series of writes).  PostgreSQL: always a
    thread."""
    api = ApiServices.build(world.vault)
    threads: list[threading.Thread] = []
    original = api.gate.read_steps

    def spy(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.current_thread())
        return original(*args, **kwargs)

    api.gate.read_steps = spy  # type: ignore[method-assign]
    customer = world.ids["jana@example.com"]

    def holding(lock: Callable[[], AbstractContextManager[None]]) -> None:
        held, release = threading.Event(), threading.Event()

        def writer() -> None:
            with lock():
                held.set()
                release.wait(10)

        other = threading.Thread(target=writer)
        other.start()
        try:
            assert held.wait(10)
            read = asyncio.run(api.read("jana.dvorakova", SUPPORT, customer, ["email"]))
            assert read.record.values == {"email": "jana@example.com"}
        finally:
            release.set()
            other.join(10)

    engine = world.vault.engine
    holding(nullcontext)
    holding(lambda: long_writes(engine))
    main = threading.current_thread()
    if engine.dialect.name == "sqlite":
        assert threads[0] is main
        assert threads[1] is not main
    else:
        assert main not in threads


def test_without_an_audit_trail_both_paths_fail_closed(
    world: World, client: TestClient, served_directly: list[str]
) -> None:
    customer = world.ids["jana@example.com"]
    url = f"/api/v1/customers/{customer}"
    params = {"purpose": SUPPORT, "fields": "email,phone"}
    headers = auth(world.keys["jana.dvorakova"], "cs")
    _api(client).auth.forget()
    assert client.get(url, params=params, headers=headers).status_code == 200
    make_unwritable(world.vault.engine)
    _api(client).auth.forget()
    by_route = client.get(url, params=params, headers=headers)  # caches the key again
    by_direct = client.get(url, params=params, headers=headers)
    assert served_directly == [customer]  # the route answered the others
    for response in (by_route, by_direct):
        assert response.status_code == 503
        assert response.json()["code"] == "audit_unavailable"
        assert "jana@example.com" not in response.text and "values" not in response.json()


def test_the_loop_reads_on_a_connection_of_its_own(world: World, clock: FixedClock) -> None:
    """SQLite: the event loop keeps one connection for the customers it reads (reads
    that interleave at their awaits share it), replaces it after a database error, and
    gives it back at shutdown.  PostgreSQL reads take pooled ones in their threads."""
    api = ApiServices.build(world.vault)
    engine = world.vault.engine
    emails = ["jana@example.com", "petr@example.com", "zainab@example.org"] * 10

    async def reads() -> list[dict[str, str | None]]:
        results = await asyncio.gather(
            *(api.read("jana.dvorakova", SUPPORT, world.ids[email], ["email"]) for email in emails)
        )
        return [dict(result.record.values) for result in results]

    try:
        assert asyncio.run(reads()) == [{"email": email} for email in emails]
        if engine.dialect.name != "sqlite":
            assert api.reads._loop_connection is None
            return
        kept = api.reads._loop_connection
        assert kept is not None and engine.pool.checkedout() == 1  # type: ignore[attr-defined]
        kept.connection.driver_connection.close()  # type: ignore[union-attr]
        with pytest.raises(SQLAlchemyError):  # the read that finds it broken fails...
            asyncio.run(reads())
        assert asyncio.run(reads()) == [{"email": e} for e in emails]  # ...not the next
        assert api.reads._loop_connection is not None and api.reads._loop_connection is not kept
    finally:
        api.reads.close()
    assert api.reads._loop_connection is None

    with TestClient(make_app(world.vault.settings, clock)) as client:
        served = _api(client)
        response = client.get(
            f"/api/v1/customers/{world.ids['jana@example.com']}",
            params={"purpose": SUPPORT, "fields": "email"},
            headers=auth(world.keys["jana.dvorakova"], "en"),
        )
        assert response.status_code == 200 and served.reads._loop_connection is not None
    assert served.reads._loop_connection is None  # given back when the app shut down
