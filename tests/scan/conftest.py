"""Fixtures for scanner tests: a real keyring (blind indexes computed the real way)."""

from __future__ import annotations

from pathlib import Path

import pytest

from privault.crypto import FileKeyProvider, Keyring, create_key_file, open_keyring


@pytest.fixture(scope="session")
def keyring(tmp_path_factory: pytest.TempPathFactory) -> Keyring:
    path: Path = tmp_path_factory.mktemp("keys") / "keys.json"
    create_key_file(path)
    return open_keyring(FileKeyProvider(path))
