"""A vault's identity: one random ``vault_id`` in the key ring and the data store, and
parts of different vaults are never opened together."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from privault.errors import ConfigError
from privault.runtime import Vault, initialise, open_vault, upgrade_vault
from privault.settings import Settings
from privault.store.vault_id import VAULT_ID_FORMAT, stored_vault_id


def test_init_records_one_id_in_keys_and_data(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "a")
    made = initialise(settings, actor="cli:test")
    assert VAULT_ID_FORMAT.fullmatch(made["vault_id"])
    keys = json.loads(settings.effective_key_file.read_text(encoding="utf-8"))
    assert keys["vault_id"] == made["vault_id"]
    with open_vault(settings) as vault:
        assert stored_vault_id(vault.engine) == made["vault_id"] == vault.keyring.vault_id
        (entry,) = [e.entry for e in vault.audit.entries(limit=5)]
        assert (entry.action, entry.principal) == ("vault.init", "cli:test")
        exported = vault.audit.export(tmp_path / "export")
        assert exported.entries == 1
    manifest = json.loads((tmp_path / "export" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["vault_id"] == made["vault_id"]
    assert (
        initialise(Settings(home=tmp_path / "b"), actor="cli:test")["vault_id"] != made["vault_id"]
    )


def test_keys_of_another_vault_are_refused(tmp_path: Path) -> None:
    first, second = Settings(home=tmp_path / "a"), Settings(home=tmp_path / "b")
    initialise(first, actor="cli:test")
    initialise(second, actor="cli:test")
    mixed = Settings(home=first.home, key_file=second.effective_key_file)
    with pytest.raises(ConfigError, match="different vaults"):
        open_vault(mixed)


@pytest.mark.db
def test_upgrade_gives_a_vault_made_before_ids_its_id(vault: Vault) -> None:
    """The suite's vault fixture records an id; a vault from before ids had none."""
    path = vault.settings.effective_key_file
    document = json.loads(path.read_text(encoding="utf-8"))
    del document["vault_id"]
    path.write_text(json.dumps(document), encoding="utf-8")
    with vault.engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM vault_meta")
    result = upgrade_vault(vault.settings, actor="cli:test")
    assert json.loads(path.read_text(encoding="utf-8"))["vault_id"] == result["vault_id"]
    assert stored_vault_id(vault.engine) == result["vault_id"]
