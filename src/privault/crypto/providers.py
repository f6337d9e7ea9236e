"""Where master keys come from: a local key file (the embedded default) or the environment.

Key material:
- master keys, versioned (``1``, ``2``...), one of them active: they wrap data keys;
- the blind-index key: never rotated with the master key, since every index depends on it;
- the audit signing key (Ed25519 seed): signs audit checkpoints.

The key file is JSON, created with ``O_EXCL`` and mode 0600 (owner only); creating
it again refuses to overwrite.  An external KMS would be a third provider behind the
same ``KeyProvider`` protocol.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from privault.errors import N_, ConfigError

KEY_BYTES = 32
KEY_FILE_FORMAT = 1


@dataclass(frozen=True, slots=True, repr=False)
class KeyMaterial:
    master_keys: Mapping[int, bytes]
    active_version: int
    blind_index_key: bytes
    signing_seed: bytes
    # Which vault these keys belong to (``privault init``); None for key rings made before.
    vault_id: str | None = None

    def __repr__(self) -> str:  # never print key bytes
        return f"KeyMaterial(versions={sorted(self.master_keys)}, active={self.active_version})"


class KeyProvider(Protocol):
    def load(self) -> KeyMaterial: ...

    def add_master_version(self) -> int:
        """Create a new master key version, make it active, return its number."""
        ...

    def retire_master_version(self, version: int) -> None: ...


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: object, what: str, source: str) -> bytes:
    try:
        raw = base64.b64decode(str(text), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError(
            N_("%(source)s: %(what)s is not valid base64"), source=source, what=what
        ) from None
    if len(raw) != KEY_BYTES:
        raise ConfigError(
            N_("%(source)s: %(what)s must be %(size)s bytes"),
            source=source,
            what=what,
            size=KEY_BYTES,
        )
    return raw


def _vault_id(value: object, source: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not re.fullmatch(r"vlt_[0-9a-f]{32}", value):
        raise ConfigError(N_("%(source)s: the vault id is not valid."), source=source)
    return value


def _validate(material: KeyMaterial, source: str) -> KeyMaterial:
    if material.active_version not in material.master_keys:
        raise ConfigError(
            N_("%(source)s: the active master key version %(version)s is missing"),
            source=source,
            version=material.active_version,
        )
    return material


def create_key_file(path: Path, vault_id: str | None = None) -> None:
    """Create a new key file, owner-only.  Refuses to overwrite an existing one."""
    document: dict[str, object] = {
        "format": KEY_FILE_FORMAT,
        "active": 1,
        "master_keys": {"1": _b64(secrets.token_bytes(KEY_BYTES))},
        "blind_index_key": _b64(secrets.token_bytes(KEY_BYTES)),
        "signing_seed": _b64(secrets.token_bytes(KEY_BYTES)),
    }
    if vault_id is not None:
        document["vault_id"] = vault_id
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ConfigError(
            N_("The key file %(path)s already exists; refusing to overwrite it."), path=str(path)
        ) from None
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=2)
        handle.flush()
        os.fsync(handle.fileno())


class FileKeyProvider:
    def __init__(self, path: Path) -> None:
        self.path = path

    def _read(self) -> dict[str, object]:
        try:
            mode = self.path.stat().st_mode & 0o777
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(
                N_("No key file at %(path)s; run 'privault init' first."), path=str(self.path)
            ) from None
        except OSError as exc:
            raise ConfigError(
                N_("Cannot read key file %(path)s: %(reason)s"),
                path=str(self.path),
                reason=exc.strerror,
            ) from None
        if mode & 0o077:
            raise ConfigError(
                N_("Key file %(path)s is readable by others (mode %(mode)s); run chmod 600 on it."),
                path=str(self.path),
                mode=oct(mode),
            )
        try:
            document = json.loads(text)
        except json.JSONDecodeError:
            raise ConfigError(
                N_("Key file %(path)s is not valid JSON."), path=str(self.path)
            ) from None
        if not isinstance(document, dict) or document.get("format") != KEY_FILE_FORMAT:
            raise ConfigError(N_("Key file %(path)s has an unknown format."), path=str(self.path))
        return document

    def load(self) -> KeyMaterial:
        document = self._read()
        source = str(self.path)
        masters = document.get("master_keys")
        if not isinstance(masters, dict) or not masters:
            raise ConfigError(N_("Key file %(path)s has no master keys."), path=source)
        try:
            versions = {int(v): _unb64(k, f"master key {v}", source) for v, k in masters.items()}
            active = int(str(document.get("active")))
        except ValueError:
            raise ConfigError(N_("Key file %(path)s has an unknown format."), path=source) from None
        return _validate(
            KeyMaterial(
                master_keys=versions,
                active_version=active,
                blind_index_key=_unb64(document.get("blind_index_key"), "blind_index_key", source),
                signing_seed=_unb64(document.get("signing_seed"), "signing_seed", source),
                vault_id=_vault_id(document.get("vault_id"), source),
            ),
            source,
        )

    def record_vault_id(self, vault_id: str) -> str:
        """Give a key file made before vault ids its vault's id; returns the file's id."""
        document = self._read()
        found = _vault_id(document.get("vault_id"), str(self.path))
        if found is not None:
            return found
        document["vault_id"] = _vault_id(vault_id, str(self.path))
        self._write(document)
        return vault_id

    def _write(self, document: dict[str, object]) -> None:
        temporary = self.path.with_suffix(".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(self.path)

    def add_master_version(self) -> int:
        document = self._read()
        masters = dict(document["master_keys"])  # type: ignore[call-overload]
        version = max(int(v) for v in masters) + 1
        masters[str(version)] = _b64(secrets.token_bytes(KEY_BYTES))
        document["master_keys"] = masters
        document["active"] = version
        self._write(document)
        return version

    def retire_master_version(self, version: int) -> None:
        document = self._read()
        masters = dict(document["master_keys"])  # type: ignore[call-overload]
        if int(str(document["active"])) == version:
            raise ConfigError(
                N_("Master key version %(version)s is active; rotate first."), version=version
            )
        if str(version) not in masters:
            raise ConfigError(N_("There is no master key version %(version)s."), version=version)
        del masters[str(version)]
        document["master_keys"] = masters
        self._write(document)


class EnvKeyProvider:
    """Keys from the environment, for deployments whose secrets manager injects them.

    ``PRIVAULT_MASTER_KEYS="1:<base64>,2:<base64>"``, ``PRIVAULT_ACTIVE_MASTER_KEY=2``,
    ``PRIVAULT_BLIND_INDEX_KEY=<base64>``, ``PRIVAULT_SIGNING_SEED=<base64>``.
    Rotation is done in the secrets manager, so this provider is read-only.
    """

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._given = environ
        self._environ = environ if environ is not None else os.environ

    def __reduce__(self) -> tuple[object, ...]:
        # A worker process inherits the environment; only an explicit mapping travels.
        return (EnvKeyProvider, (dict(self._given) if self._given is not None else None,))

    def load(self) -> KeyMaterial:
        source = "environment"
        env = self._environ
        try:
            masters_text = env["PRIVAULT_MASTER_KEYS"]
            versions: dict[int, bytes] = {}
            for part in masters_text.split(","):
                version, _, key = part.strip().partition(":")
                versions[int(version)] = _unb64(key, f"master key {version}", source)
            active = int(env.get("PRIVAULT_ACTIVE_MASTER_KEY", str(max(versions))))
            blind = _unb64(env["PRIVAULT_BLIND_INDEX_KEY"], "PRIVAULT_BLIND_INDEX_KEY", source)
            signing = _unb64(env["PRIVAULT_SIGNING_SEED"], "PRIVAULT_SIGNING_SEED", source)
        except KeyError as exc:
            raise ConfigError(
                N_("The environment variable %(name)s is not set."), name=exc.args[0]
            ) from None
        except ValueError:
            raise ConfigError(
                N_("PRIVAULT_MASTER_KEYS must look like '1:<base64>,2:<base64>'.")
            ) from None
        vault_id = _vault_id(env.get("PRIVAULT_VAULT_ID"), source)
        return _validate(KeyMaterial(versions, active, blind, signing, vault_id), source)

    def add_master_version(self) -> int:
        raise ConfigError(
            N_("Keys from the environment are rotated in your secrets manager, not by privault.")
        )

    def retire_master_version(self, version: int) -> None:
        self.add_master_version()
