"""The vault's identity in the data store, and the check that data and keys belong together.

``privault init`` makes one random ``vault_id`` and records it in the key ring and in
``vault_meta``; exports carry it too.  Opening a key ring over the data of another
vault is an error, not a pile of undecryptable rows.
"""

from __future__ import annotations

import re
import secrets
from typing import Final

from sqlalchemy import Engine, insert, select

from privault.errors import N_, ConfigError
from privault.store.tables import VaultMeta, table_of

META = table_of(VaultMeta)
VAULT_ID: Final = "vault_id"
VAULT_ID_FORMAT: Final = re.compile(r"vlt_[0-9a-f]{32}")


def new_vault_id() -> str:
    return f"vlt_{secrets.token_hex(16)}"


def stored_vault_id(engine: Engine) -> str | None:
    with engine.connect() as connection:
        value = connection.execute(select(META.c.value).where(META.c.name == VAULT_ID)).scalar()
    return None if value is None else str(value)


def record_vault_id(engine: Engine, vault_id: str) -> None:
    """Record the id once; a store that already has another id is refused."""
    if not VAULT_ID_FORMAT.fullmatch(vault_id):
        raise ConfigError(
            N_("'%(value)s' is not a vault id (vlt_ and 32 hex digits)."), value=vault_id[:40]
        )
    found = stored_vault_id(engine)
    if found == vault_id:
        return
    if found is not None:
        raise _mismatch(vault_id, found)
    with engine.begin() as connection:
        connection.execute(insert(META).values(name=VAULT_ID, value=vault_id))


def check_vault_id(engine: Engine, key_ring_id: str | None) -> None:
    """Refuse a key ring and a data store of different vaults."""
    found = stored_vault_id(engine)
    if found is not None and key_ring_id is not None and found != key_ring_id:
        raise _mismatch(key_ring_id, found)


def _mismatch(keys: str, data: str) -> ConfigError:
    return ConfigError(
        N_(
            "The key ring belongs to vault %(keys)s but the database to vault %(data)s; "
            "they are parts of different vaults and are not opened together."
        ),
        keys=keys,
        data=data,
    )
