"""Keys, envelope encryption and blind indexes -- the only importer of cryptography.hazmat.

Callers get a ``Keyring`` (from ``open_keyring(settings)``) and use ``seal``/``open``,
sealed records (``new_record``, ``open_record(s)``, ``update_record``),
``new_data_key``/``unwrap``/``rewrap`` and ``blind_index``.  Key bytes never leave this
package: data keys travel as opaque ``DataKey`` objects and wrapped (encrypted) bytes.
"""

from privault.crypto.keyring import EMPTY_RECORD, DataKey, Keyring, open_keyring
from privault.crypto.providers import (
    EnvKeyProvider,
    FileKeyProvider,
    KeyMaterial,
    KeyProvider,
    create_key_file,
)

__all__ = [
    "EMPTY_RECORD",
    "DataKey",
    "EnvKeyProvider",
    "FileKeyProvider",
    "KeyMaterial",
    "KeyProvider",
    "Keyring",
    "create_key_file",
    "open_keyring",
]
