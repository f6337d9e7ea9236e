"""Authentication at its edges, on every way in: a read through the FastAPI route, the
same read served straight from ASGI (``api/direct.py``, for a key the worker accepted
moments ago), a route that needs any caller (``POST /policy/explain``) and one that
needs the compliance team (``GET /principals``).

Each guard below was removed or broken by hand, one at a time; the tests named failed
(on every way in unless said otherwise) and passed again once it was restored:

- ``test_a_valid_key_is_accepted`` -- the control: a guard that refused everything
  would pass the rest.
- ``test_the_scheme_is_case_insensitive`` -- ``Authenticator._key`` compares
  ``scheme.lower()`` (RFC 7235 §2.1: the auth-scheme is case-insensitive; the intended
  behaviour, as in FastAPI's ``HTTPBearer``).  Comparing it as sent fails this test.
- ``test_two_authorization_headers_are_refused`` -- ``api.auth.authorization``: more
  than one ``Authorization`` header is ``Unauthenticated``, even when each would be
  accepted alone (which key is meant, and which did a proxy add?).  Letting the first
  or the last win, or the route reading ``request.headers.get`` (as it did, so two
  headers were accepted everywhere: the direct path only left them to the route),
  fails it; the direct path reading the first header fails it on the direct path.
- ``test_a_missing_empty_or_malformed_key_is_refused`` -- the scheme check of
  ``Authenticator._key`` (any scheme accepted: fails) and the secret's digest in
  ``PrincipalService.authenticate`` (not compared: fails); ``DirectRead._parse``
  leaving a request whose key is refused to the route (letting ``Unauthenticated``
  escape: a 500, fails on the direct path and the read route).  ``_key``'s ``pv_``
  prefix and length checks are a shortcut in front of ``KEY_FORMAT``: removing them
  changes no answer, so no test here can fail for them.
- ``test_a_revoked_key_is_refused`` -- ``PrincipalService.authenticate`` checks
  ``revoked_at`` (fails everywhere without it); revoking through the API drops the
  worker's cache (``Authenticator.forget``; without it the direct path and the admin
  route, whose key the revoking request had just cached, still answer).
- ``test_the_key_of_a_removed_principal_is_refused`` -- ``Authenticator.authenticate``
  accepts a key only while its owner is a principal of the effective policy (file and
  run-time principals).  Before, such a key was a 403 on reads and the admin routes, a
  200 on ``/policy/explain`` and accepted wherever no decision is made (the incident
  report).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fastapi.testclient import TestClient

from privault.api.services import ApiServices
from privault.clock import FixedClock
from privault.policy import EXAMPLE_POLICY
from tests.api.s1_world import SUPPORT, World, make_app

VIAS = ("route", "direct", "explain", "admin")
Headers = list[tuple[str, str]]


class Door:
    """One way into the API, knocked on with the headers a test gives."""

    def __init__(
        self, via: str, world: World, client: TestClient, served_directly: list[str]
    ) -> None:
        self.via = via
        self.world = world
        self.client = client
        self.served = served_directly
        self.principal = "sana.malik" if via == "admin" else "jana.dvorakova"
        self.other = "jana.dvorakova" if via == "admin" else "ayesha.khan"
        self.customer = world.ids["jana@example.com"]

    @property
    def key(self) -> str:
        return self.world.keys[self.principal]

    def _api(self) -> ApiServices:
        api = self.client.app.state.api  # type: ignore[attr-defined]
        assert isinstance(api, ApiServices)
        return api

    def _send(self, headers: Headers) -> httpx.Response:
        response: httpx.Response
        if self.via == "explain":
            body = {"purpose": SUPPORT, "fields": ["email"]}
            response = self.client.post("/api/v1/policy/explain", json=body, headers=headers)
        elif self.via == "admin":
            response = self.client.get("/api/v1/principals", params={"limit": 1}, headers=headers)
        else:
            params = {"purpose": SUPPORT, "fields": "email"}
            url = f"/api/v1/customers/{self.customer}"
            response = self.client.get(url, params=params, headers=headers)
        return response

    def warm(self) -> None:
        """On the direct path, a valid request first, so the key is in the cache and the
        next well-formed read is served without FastAPI; elsewhere, an empty cache."""
        if self.via != "direct":
            self._api().auth.forget()
            return
        assert self._send([("Authorization", f"Bearer {self.key}")]).status_code == 200
        self.served.clear()

    def knock(self, headers: Headers, *, warm: bool = True) -> httpx.Response:
        if warm:
            self.warm()
        return self._send(headers)

    def assert_accepted(self, response: httpx.Response, case: object = None) -> None:
        label = f"{self.via}: {case!r}"
        assert response.status_code == 200, f"{label}: {response.text}"
        # The direct path served it itself; every other way in is FastAPI's.
        assert self.served == ([self.customer] if self.via == "direct" else []), label

    def assert_refused(self, response: httpx.Response, case: object = None) -> None:
        label = f"{self.via}: {case!r}"
        assert response.status_code == 401, f"{label}: {response.text}"
        assert response.headers["content-type"].startswith("application/problem+json"), label
        assert response.headers["www-authenticate"].startswith("Bearer"), label
        body: dict[str, Any] = response.json()
        assert body["code"] == "unauthenticated", label
        assert "values" not in body and "decision" not in body and "items" not in body, label
        assert self.served == [], label  # never by the direct path: it serves only the sure


@pytest.fixture(params=VIAS)
def door(
    request: pytest.FixtureRequest, world: World, client: TestClient, served_directly: list[str]
) -> Door:
    return Door(request.param, world, client, served_directly)


def bearer(key: str, scheme: str = "Bearer") -> Headers:
    return [("Authorization", f"{scheme} {key}")]


def test_a_valid_key_is_accepted(door: Door) -> None:
    door.assert_accepted(door.knock(bearer(door.key)))


def test_the_scheme_is_case_insensitive(door: Door) -> None:
    for scheme in ["bearer", "BEARER", "bEaReR"]:
        door.assert_accepted(door.knock(bearer(door.key, scheme)), scheme)


def test_two_authorization_headers_are_refused(door: Door) -> None:
    own, other = f"Bearer {door.key}", f"Bearer {door.world.keys[door.other]}"
    bad = "Bearer pv_0123456789abcdef_" + "A" * 43
    for first, second in [(own, own), (own, other), (own, bad), (bad, own)]:
        headers = [("Authorization", first), ("Authorization", second)]
        door.assert_refused(door.knock(headers), (first[:20], second[:20]))


def test_a_missing_empty_or_malformed_key_is_refused(door: Door) -> None:
    door.assert_refused(door.knock([]), "no header")
    key = door.key
    wrong_secret = key[:-1] + ("B" if key[-1] != "B" else "C")  # the key's id, another secret
    for value in [
        "",
        "Bearer ",
        "Bearer",
        "bearer    ",
        "Basic dXNlcjpwYXNz",
        "Bearer garbage",
        "Bearer pv_",
        f"Token {key}",  # another scheme
        key,  # no scheme
        f"Bearer{key}",  # no space
        f"Bearer {key}x",  # one character more
        f"Bearer {key}, Bearer {key}",  # two credentials in one header
        "Bearer pv_0123456789abcdef_" + "A" * 43,  # well formed, no such key
        f"Bearer {wrong_secret}",
        "Bearer pv_" + "a" * 300,
    ]:
        door.assert_refused(door.knock([("Authorization", value)]), value[:30])


def test_a_revoked_key_is_refused(door: Door) -> None:
    door.warm()
    key_id = door.key.split("_")[1]
    admin = bearer(door.world.keys["sana.malik"])
    revoked = door.client.delete(f"/api/v1/keys/{key_id}", headers=admin)
    assert revoked.status_code == 204, revoked.text
    door.served.clear()
    door.assert_refused(door.knock(bearer(door.key), warm=False))


@pytest.fixture
def without_principal(
    door: Door, world: World, clock: FixedClock, tmp_path: Path
) -> Iterator[TestClient]:
    """The app over a copy of the policy from which the door's principal was removed
    (its key stays in the database, as after someone left and the policy was edited)."""
    policy = yaml.safe_load(EXAMPLE_POLICY.read_text(encoding="utf-8"))
    policy["principals"] = [p for p in policy["principals"] if p["name"] != door.principal]
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(policy, allow_unicode=True), encoding="utf-8")
    settings = world.vault.settings.model_copy(update={"policy_path": path})
    with TestClient(make_app(settings, clock), raise_server_exceptions=False) as client:
        yield client


def test_the_key_of_a_removed_principal_is_refused(
    door: Door, without_principal: TestClient
) -> None:
    door.client = without_principal
    for _ in range(2):  # the second would be the direct path's, had the first been let in
        door.assert_refused(door.knock(bearer(door.key), warm=False))
