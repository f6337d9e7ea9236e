"""Fixtures of the page tests: a keyring alone, and the S1 world served in-process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from privault.api.app import create_app
from privault.clock import FixedClock
from privault.crypto import FileKeyProvider, Keyring, create_key_file, open_keyring
from privault.runtime import Vault
from tests.api.s1_world import World, build_world


@pytest.fixture
def keyring(tmp_path: Path) -> Keyring:
    path = tmp_path / "keys.json"
    create_key_file(path)
    return open_keyring(FileKeyProvider(path))


@pytest.fixture
def world(vault: Vault) -> World:
    return build_world(vault)


@pytest.fixture
def client(world: World, clock: FixedClock) -> Iterator[TestClient]:
    with TestClient(create_app(world.vault.settings, clock)) as test_client:
        yield test_client
