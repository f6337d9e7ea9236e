"""Envelope encryption: master keys wrap per-customer data keys; data keys seal fields.

Formats (all integers big-endian):

    wrapped data key = 0x01 | master version (u32) | generation (u32) | nonce (12) | AES-GCM(dek)
                       AAD: b"privault/dek/v1" | header | customer id
    sealed field     = 0x01 | generation (u32) | nonce (12) | AES-GCM(value, UTF-8)
                       AAD: b"privault/field/v1" | header | customer id | 0x00 | field name
    sealed record    = 0x01 | per field: len(name) (u8) | name (UTF-8) | len(token) (u16) | token

Binding the customer id and field name as associated data means a ciphertext moved to
another customer or field fails to open.  A sealed record keeps one customer's sealed
fields together (one row to write and read) without weakening that: each field is still
its own AEAD token under its own name, and only the fields asked for are opened.  Every
failure -- tampering, moving, a wrong or destroyed key, a malformed record -- raises the
same opaque ``DecryptionError``.  Nonces are random 96-bit values chosen here; callers
never pass one.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import struct
from collections.abc import Iterable, Mapping, Sequence
from typing import Final

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from privault.crypto.providers import KeyMaterial, KeyProvider
from privault.errors import N_, CryptoError, DecryptionError

FORMAT_VERSION: Final[int] = 1
NONCE_BYTES: Final[int] = 12
BLIND_INDEX_BYTES: Final[int] = 16
_WRAP_HEADER = struct.Struct(">BII")
_FIELD_HEADER = struct.Struct(">BI")
_DEK_AAD: Final[bytes] = b"privault/dek/v1"
_FIELD_AAD: Final[bytes] = b"privault/field/v1"
_NONCE_AT: Final[int] = _FIELD_HEADER.size  # where a sealed field's nonce starts
_BODY_AT: Final[int] = _NONCE_AT + NONCE_BYTES  # ... and its ciphertext and tag
_TOKEN_MIN: Final[int] = _BODY_AT + 16
_RECORD_VERSION: Final[bytes] = bytes([FORMAT_VERSION])
EMPTY_RECORD: Final[bytes] = _RECORD_VERSION  # a sealed record without fields
_MAX_NAME_BYTES: Final[int] = 0xFF
_MAX_TOKEN_BYTES: Final[int] = 0xFFFF
_SHA256_BLOCK: Final[int] = 64
_KEY_BYTES: Final[int] = 32  # AES-256


class DataKey:
    """An unwrapped per-customer data key.  Opaque: it can only be given back to a Keyring."""

    __slots__ = ("_aead", "generation")

    def __init__(self, aead: AESGCM, generation: int) -> None:
        self._aead = aead
        self.generation = generation

    def __repr__(self) -> str:
        return f"DataKey(generation={self.generation})"

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("DataKey cannot be pickled")


class Keyring:
    """The operations privault performs with key material, none of which hand keys out."""

    def __init__(self, material: KeyMaterial) -> None:
        self._masters = {v: AESGCM(k) for v, k in material.master_keys.items()}
        self._active = material.active_version
        self._blind_key = material.blind_index_key
        self._blind_inner, self._blind_outer = _hmac_pads(material.blind_index_key)
        self._signing = Ed25519PrivateKey.from_private_bytes(material.signing_seed)
        self._reference: AESGCM | None = None
        self.vault_id = material.vault_id

    @property
    def active_version(self) -> int:
        return self._active

    @property
    def master_versions(self) -> tuple[int, ...]:
        return tuple(sorted(self._masters))

    # -- data keys ------------------------------------------------------------------

    def new_data_key(self, customer_id: str, generation: int = 1) -> tuple[DataKey, bytes]:
        """A fresh data key for a customer, and its wrapped form for the store."""
        raw = AESGCM.generate_key(bit_length=256)
        return DataKey(AESGCM(raw), generation), self._wrap(customer_id, raw, generation)

    def _wrap(self, customer_id: str, raw: bytes, generation: int) -> bytes:
        header = _WRAP_HEADER.pack(FORMAT_VERSION, self._active, generation)
        nonce = os.urandom(NONCE_BYTES)
        aad = _DEK_AAD + header + customer_id.encode()
        return header + nonce + self._masters[self._active].encrypt(nonce, raw, aad)

    def _unwrap_raw(self, customer_id: str, wrapped: bytes) -> tuple[bytes, int]:
        if len(wrapped) < _WRAP_HEADER.size + NONCE_BYTES + 16:
            raise DecryptionError()
        version, master_version, generation = _WRAP_HEADER.unpack_from(wrapped)
        master = self._masters.get(master_version)
        if version != FORMAT_VERSION or master is None:
            raise DecryptionError()
        header = wrapped[: _WRAP_HEADER.size]
        nonce = wrapped[_WRAP_HEADER.size : _WRAP_HEADER.size + NONCE_BYTES]
        try:
            raw = master.decrypt(
                nonce,
                wrapped[_WRAP_HEADER.size + NONCE_BYTES :],
                _DEK_AAD + header + customer_id.encode(),
            )
        except InvalidTag:
            raise DecryptionError() from None
        return raw, generation

    def unwrap(self, customer_id: str, wrapped: bytes) -> DataKey:
        raw, generation = self._unwrap_raw(customer_id, wrapped)
        return DataKey(AESGCM(raw), generation)

    def rewrap(self, customer_id: str, wrapped: bytes) -> bytes:
        """The same data key, wrapped under the active master key version."""
        raw, generation = self._unwrap_raw(customer_id, wrapped)
        return self._wrap(customer_id, raw, generation)

    @staticmethod
    def wrapped_master_version(wrapped: bytes) -> int:
        if len(wrapped) < _WRAP_HEADER.size:
            raise DecryptionError()
        return int(_WRAP_HEADER.unpack_from(wrapped)[1])

    # -- fields -----------------------------------------------------------------------

    @staticmethod
    def seal(key: DataKey, customer_id: str, field: str, plaintext: str) -> bytes:
        header = _FIELD_HEADER.pack(FORMAT_VERSION, key.generation)
        nonce = os.urandom(NONCE_BYTES)
        aad = b"".join((_FIELD_AAD, header, customer_id.encode(), b"\x00", field.encode()))
        return header + nonce + key._aead.encrypt(nonce, plaintext.encode("utf-8"), aad)

    @staticmethod
    def open(key: DataKey, customer_id: str, field: str, token: bytes) -> str:
        size = _FIELD_HEADER.size
        if len(token) < size + NONCE_BYTES + 16 or token[0] != FORMAT_VERSION:
            raise DecryptionError()
        header = token[:size]
        aad = b"".join((_FIELD_AAD, header, customer_id.encode(), b"\x00", field.encode()))
        try:
            plaintext = key._aead.decrypt(
                token[size : size + NONCE_BYTES], token[size + NONCE_BYTES :], aad
            )
            return plaintext.decode("utf-8")
        except (InvalidTag, UnicodeDecodeError):
            raise DecryptionError() from None

    # -- sealed records (all of one customer's fields) ------------------------------------

    def new_record(self, customer_id: str, values: Mapping[str, str]) -> tuple[bytes, bytes]:
        """A fresh data key for a new customer and every value sealed under it: the
        wrapped key and the sealed record, the two things the store keeps."""
        # One draw from the OS for the key and every nonce: the same CSPRNG bytes as
        # separate calls (AESGCM.generate_key is os.urandom), one system call.
        random = os.urandom(_KEY_BYTES + NONCE_BYTES * (len(values) + 1))
        raw, nonce = random[:_KEY_BYTES], random[_KEY_BYTES : _KEY_BYTES + NONCE_BYTES]
        header = _WRAP_HEADER.pack(FORMAT_VERSION, self._active, 1)
        aad = _DEK_AAD + header + customer_id.encode()
        wrapped = header + nonce + self._masters[self._active].encrypt(nonce, raw, aad)
        nonces = random[_KEY_BYTES + NONCE_BYTES :]
        return wrapped, _pack(_seal_all(AESGCM(raw), 1, customer_id, values, nonces))

    @staticmethod
    def update_record(
        key: DataKey, customer_id: str, record: bytes, changes: Mapping[str, str | None]
    ) -> bytes:
        """``record`` with ``changes`` sealed in (``None`` removes a field); the other
        fields' tokens are kept as they are."""
        entries = dict(_unpack(record))
        new = {name: value for name, value in changes.items() if value is not None}
        nonces = os.urandom(NONCE_BYTES * len(new))
        for name in changes:
            entries.pop(name.encode(), None)
        entries.update(_seal_all(key._aead, key.generation, customer_id, new, nonces))
        return _pack(entries.items())

    @staticmethod
    def record_fields(record: bytes) -> tuple[str, ...]:
        """The names of the fields a record holds (names are not customer data)."""
        return tuple(name.decode() for name, _ in _unpack(record))

    @staticmethod
    def open_record(
        key: DataKey, customer_id: str, record: bytes, fields: Sequence[str]
    ) -> dict[str, str | None]:
        """The plaintext of ``fields`` (None where the record has no such field)."""
        wanted = {name.encode(): name for name in fields}
        values: dict[str, str | None] = dict.fromkeys(fields)
        _open_into(key._aead, customer_id.encode(), record, wanted, values)
        return values

    def open_records(
        self, rows: Iterable[tuple[str, bytes, bytes]], fields: Sequence[str]
    ) -> dict[str, dict[str, str | None]]:
        """``(customer id, wrapped key, sealed record)`` rows opened for ``fields``, by
        customer id: one unwrap per customer, one AEAD call per field asked for (the hot
        loop of ``fetch_many``, hence locals everywhere)."""
        wanted = {name.encode(): name for name in fields}
        masters = self._masters
        unpack_header = _WRAP_HEADER.unpack_from
        header_size = _WRAP_HEADER.size
        wrapped_body = header_size + NONCE_BYTES
        opened: dict[str, dict[str, str | None]] = {}
        try:
            for customer_id, wrapped, record in rows:
                cid = customer_id.encode()
                if len(wrapped) < wrapped_body + 16:
                    raise DecryptionError()
                version, master_version, _ = unpack_header(wrapped)
                master = masters.get(master_version)
                if version != FORMAT_VERSION or master is None:
                    raise DecryptionError()
                raw = master.decrypt(
                    wrapped[header_size:wrapped_body],
                    wrapped[wrapped_body:],
                    _DEK_AAD + wrapped[:header_size] + cid,
                )
                values: dict[str, str | None] = dict.fromkeys(fields)
                _open_into(AESGCM(raw), cid, record, wanted, values)
                opened[customer_id] = values
        except InvalidTag:
            raise DecryptionError() from None
        return opened

    # -- blind indexes ----------------------------------------------------------------

    def blind_index(self, namespace: str, match_key: str) -> bytes:
        """Keyed hash of a normalised value (see ``catalog.kinds.match_key``)."""
        # HMAC-SHA256 from the key's precomputed inner and outer states (RFC 2104), the
        # same digest as hmac.digest at half the cost: the key is not re-hashed per call.
        inner = self._blind_inner.copy()
        inner.update(b"%s\x00%s" % (namespace.encode(), match_key.encode("utf-8")))
        outer = self._blind_outer.copy()
        outer.update(inner.digest())
        return outer.digest()[:BLIND_INDEX_BYTES]

    def mac(self, purpose: str, message: bytes) -> bytes:
        """HMAC-SHA256 of ``message`` under a key derived for ``purpose`` alone.

        The per-purpose key comes from the blind-index key through HKDF (salt of zeros,
        ``info`` naming the purpose), so it is independent of every blind index and of
        every other purpose; signed links and CSRF tokens use it without seeing a key.
        """
        subkey = HKDF(
            algorithm=SHA256(), length=32, salt=None, info=b"privault/mac/v1\x00" + purpose.encode()
        ).derive(self._blind_key)
        return hmac.digest(subkey, message, "sha256")

    # -- opaque references (tokenized views) --------------------------------------------

    def _reference_aead(self) -> AESGCM:
        if self._reference is None:
            key = HKDF(
                algorithm=SHA256(), length=32, salt=None, info=b"privault/reference/v1"
            ).derive(self._blind_key)
            self._reference = AESGCM(key)
        return self._reference

    def seal_reference(self, context: str, payload: bytes) -> bytes:
        """Encrypt a small reference (never a value) so that only privault can read it.

        Tokens of the ``tokenized`` view are such references: they name a customer and a
        field, and turning one back goes through the access gate.  The key derives from
        the blind-index key, so tokens survive master key rotation.
        """
        nonce = os.urandom(NONCE_BYTES)
        aad = b"privault/reference/v1\x00" + context.encode()
        return bytes([FORMAT_VERSION]) + nonce + self._reference_aead().encrypt(nonce, payload, aad)

    def open_reference(self, context: str, sealed: bytes) -> bytes:
        if len(sealed) < 1 + NONCE_BYTES + 16 or sealed[0] != FORMAT_VERSION:
            raise DecryptionError()
        aad = b"privault/reference/v1\x00" + context.encode()
        try:
            return self._reference_aead().decrypt(
                sealed[1 : 1 + NONCE_BYTES], sealed[1 + NONCE_BYTES :], aad
            )
        except InvalidTag:
            raise DecryptionError() from None

    # -- signatures (audit checkpoints) -------------------------------------------------

    def sign(self, message: bytes) -> bytes:
        return self._signing.sign(message)

    def public_signing_key(self) -> bytes:
        return self._signing.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


# -- sealed records and HMAC helpers (module-private) -------------------------------------


def _seal_all(
    aead: AESGCM, generation: int, customer_id: str, values: Mapping[str, str], nonces: bytes
) -> list[tuple[bytes, bytes]]:
    header = _FIELD_HEADER.pack(FORMAT_VERSION, generation)
    prefix = _FIELD_AAD + header + customer_id.encode() + b"\x00"
    entries = []
    start = 0
    for name, value in values.items():
        nonce = nonces[start : start + NONCE_BYTES]
        start += NONCE_BYTES
        encoded = name.encode()
        sealed = aead.encrypt(nonce, value.encode("utf-8"), prefix + encoded)
        entries.append((encoded, header + nonce + sealed))
    return entries


def _pack(entries: Iterable[tuple[bytes, bytes]]) -> bytes:
    parts = [_RECORD_VERSION]
    for name, token in entries:
        if len(name) > _MAX_NAME_BYTES or len(token) > _MAX_TOKEN_BYTES:
            # Unreachable through validation (names <= 64, values <= 1,000 characters).
            raise ValueError("field name or value too long for a sealed record")
        parts.append(b"%c%s%s%s" % (len(name), name, len(token).to_bytes(2, "big"), token))
    return b"".join(parts)


def _unpack(record: bytes) -> list[tuple[bytes, bytes]]:
    if not record or record[0] != FORMAT_VERSION:
        raise DecryptionError()
    entries = []
    position, end = 1, len(record)
    while position < end:
        name_end = position + 1 + record[position]
        token_end = name_end + 2 + int.from_bytes(record[name_end : name_end + 2], "big")
        if token_end > end:
            raise DecryptionError()
        entries.append((record[position + 1 : name_end], record[name_end + 2 : token_end]))
        position = token_end
    return entries


def _open_into(
    aead: AESGCM, cid: bytes, record: bytes, wanted: Mapping[bytes, str], out: dict[str, str | None]
) -> None:
    """Open the record's fields named in ``wanted`` into ``out``.  Parses the record in
    place (no slice per token) since ``fetch_many`` runs it for every customer."""
    if not record or record[0] != FORMAT_VERSION:
        raise DecryptionError()
    tail = cid + b"\x00"
    position, end = 1, len(record)
    try:
        while position < end:
            name_end = position + 1 + record[position]
            token_at = name_end + 2
            token_end = token_at + (record[name_end] << 8 | record[name_end + 1])
            name = record[position + 1 : name_end]
            field = wanted.get(name)
            if field is not None:
                if token_end - token_at < _TOKEN_MIN or record[token_at] != FORMAT_VERSION:
                    raise DecryptionError()
                nonce_at = token_at + _NONCE_AT
                body_at = nonce_at + NONCE_BYTES
                out[field] = aead.decrypt(
                    record[nonce_at:body_at],
                    record[body_at:token_end],
                    _FIELD_AAD + record[token_at:nonce_at] + tail + name,
                ).decode("utf-8")
            position = token_end
    except (InvalidTag, UnicodeDecodeError, IndexError):
        raise DecryptionError() from None
    if position != end:
        raise DecryptionError()


def _hmac_pads(key: bytes) -> tuple[hashlib._Hash, hashlib._Hash]:
    """SHA-256 states after absorbing the key XOR ipad and XOR opad (RFC 2104)."""
    if len(key) > _SHA256_BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_SHA256_BLOCK, b"\x00")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))
    return inner, outer


def verify_signature(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """Check an Ed25519 signature with a public key alone (what an auditor has)."""
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def open_keyring(provider: KeyProvider) -> Keyring:
    try:
        return Keyring(provider.load())
    except ValueError as exc:  # malformed key bytes that survived validation
        raise CryptoError(N_("The key material is unusable: %(reason)s"), reason=str(exc)) from None
