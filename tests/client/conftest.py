"""The client against the real app: uvicorn on 127.0.0.1, with the S1 world."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from privault.clock import FixedClock
from privault.runtime import Vault
from tests.api.s1_world import World, build_world, make_app, serve


@pytest.fixture
def world(vault: Vault) -> World:
    return build_world(vault)


@pytest.fixture
def live(world: World, clock: FixedClock) -> Iterator[str]:
    with serve(make_app(world.vault.settings, clock)) as base_url:
        yield base_url
