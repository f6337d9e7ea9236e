"""Master key rotation over a populated store."""

from __future__ import annotations

import pytest

from privault.customers.rotation import keys_by_version, retire, rotate
from privault.errors import Conflict
from privault.runtime import Vault, key_provider, open_vault


def test_rotate_rewraps_everything_and_the_old_version_retires(vault: Vault) -> None:
    refs = [
        vault.customers.create({"last_name": "Nováková", "email": f"c{i}@example.com"})
        for i in range(25)
    ]
    provider = key_provider(vault.settings)
    with pytest.raises(Conflict, match="25 data keys"):
        retire(vault.engine, provider, 1, clock=vault.clock, actor="cli:test")  # v1 in use
    report = rotate(vault.engine, provider, clock=vault.clock, actor="cli:test")
    assert report.new_version == 2 and report.rewrapped == 25
    assert keys_by_version(vault.engine) == {2: 25}
    retire(vault.engine, provider, 1, clock=vault.clock, actor="cli:test")
    reopened = open_vault(vault.settings, vault.clock)
    try:
        assert reopened.keyring.master_versions == (2,)
        for i, ref in enumerate(refs):
            assert reopened.customers.fetch(ref.id, ["email"]) == {"email": f"c{i}@example.com"}
        # blind indexes do not depend on the master key
        assert [r.id for r in reopened.customers.find("email", "c3@example.com")] == [refs[3].id]
    finally:
        reopened.close()


def test_retiring_a_version_still_in_use_is_refused(vault: Vault) -> None:
    vault.customers.create({"last_name": "Raza"})
    provider = key_provider(vault.settings)
    provider.add_master_version()  # a new version, but nothing re-wrapped yet
    with pytest.raises(Conflict, match="still wrapped"):
        retire(vault.engine, provider, 1, clock=vault.clock, actor="cli:test")


def test_key_changes_are_audited(vault: Vault) -> None:
    from privault.audit import AuditLog

    vault.customers.create({"last_name": "Raza"})
    provider = key_provider(vault.settings)
    rotate(vault.engine, provider, clock=vault.clock, actor="cli:sana")
    retire(vault.engine, provider, 1, clock=vault.clock, actor="cli:sana")
    reopened = open_vault(vault.settings, vault.clock)
    try:
        log = AuditLog(reopened)
        actions = [(e.entry.kind, e.entry.action, e.entry.principal) for e in log.entries(limit=10)]
        assert ("key", "key.retire", "cli:sana") in actions
        assert ("key", "key.rotate", "cli:sana") in actions
        assert log.verify().ok
    finally:
        reopened.close()
