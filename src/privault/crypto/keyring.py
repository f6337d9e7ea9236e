"""Envelope encryption: master keys wrap per-customer data keys; data keys seal fields.

Formats (all integers big-endian):

    wrapped data key = 0x01 | master version (u32) | generation (u32) | nonce (12) | AES-GCM(dek)
                       AAD: b"privault/dek/v1" | header | customer id
    sealed field     = 0x01 | generation (u32) | nonce (12) | AES-GCM(value, UTF-8)
                       AAD: b"privault/field/v1" | header | customer id | 0x00 | field name

Binding the customer id and field name as associated data means a ciphertext moved to
another customer or field fails to open.  Every failure -- tampering, moving, a wrong
or destroyed key -- raises the same opaque ``DecryptionError``.  Nonces are random
96-bit values chosen here; callers never pass one.
"""

from __future__ import annotations

import hmac
import os
import struct
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
        self._signing = Ed25519PrivateKey.from_private_bytes(material.signing_seed)
        self._reference: AESGCM | None = None

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

    # -- blind indexes ----------------------------------------------------------------

    def blind_index(self, namespace: str, match_key: str) -> bytes:
        """Keyed hash of a normalised value (see ``catalog.kinds.match_key``)."""
        message = namespace.encode() + b"\x00" + match_key.encode("utf-8")
        return hmac.digest(self._blind_key, message, "sha256")[:BLIND_INDEX_BYTES]

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
