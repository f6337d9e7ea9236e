"""Fixtures of the store tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from privault.api.app import create_app
from privault.runtime import Vault


@pytest.fixture
def api_vault(vault: Vault) -> Iterator[Vault]:
    """The vault as the API opens it (with the settings ``create_app`` adds), closed
    afterwards."""
    served: Vault = create_app(vault.settings, vault.clock).state.vault
    try:
        yield served
    finally:
        served.close()
