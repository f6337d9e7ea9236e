"""Fixtures of the API tests: the S1 world, the app in-process and under uvicorn."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from privault.api.direct import DirectRead
from privault.clock import FixedClock
from privault.runtime import Vault
from tests.api.s1_world import World, build_world, make_app, serve


@pytest.fixture
def world(vault: Vault) -> World:
    return build_world(vault)


@pytest.fixture
def client(world: World, clock: FixedClock) -> Iterator[TestClient]:
    """The app in-process (no sockets): fast, for the matrix and malformed requests."""
    app = make_app(world.vault.settings, clock)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def live(world: World, clock: FixedClock) -> Iterator[str]:
    """The base URL of the app served by uvicorn on 127.0.0.1."""
    with serve(make_app(world.vault.settings, clock)) as base_url:
        yield base_url


@pytest.fixture
def served_directly(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The customers whose reads ``DirectRead`` took on (rather than the route)."""
    seen: list[str] = []
    original = DirectRead._parse

    def counting(self: DirectRead, scope: Any) -> Any:
        found = original(self, scope)
        if found is not None:
            seen.append(found[2])
        return found

    monkeypatch.setattr(DirectRead, "_parse", counting)
    return seen
