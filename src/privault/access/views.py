"""Views of a value: plain, masked (format-aware) or tokenized (an opaque reference).

Masks keep just enough to recognise a value without revealing it:
``j***@example.com``, ``+420 *** *** 456``, ``CZ** **** … 1234``.  A token names the
customer (pseudonymously) and the field, sealed by the keyring; it holds no data, and
turning it back goes through the gate, which decides again.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

import phonenumbers

from privault.catalog.kinds import KindName
from privault.crypto import Keyring
from privault.errors import N_, DecryptionError, InvalidInput
from privault.policy import View

TOKEN_PREFIX = "tok_"  # noqa: S105 -- a prefix, not a secret
_TOKEN_CONTEXT = "privault/token"  # noqa: S105 -- an AEAD context label


def mask(kind: KindName, value: str) -> str:
    if kind == "email":
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@{domain}"
    if kind == "phone":
        try:
            number = phonenumbers.parse(value)
            return f"+{number.country_code} *** *** {value[-3:]}"
        except phonenumbers.NumberParseException:
            return f"*** {value[-3:]}"
    if kind == "iban":
        return f"{value[:2]}** **** … {value[-4:]}"
    if kind == "date":
        return f"{value[:4]}-**-**"
    if kind == "name":
        return f"{value[:1]}."
    if kind in ("customer_number", "national_id"):
        return f"***{value[-3:]}"
    if kind == "country":
        return value
    return f"{value[:1]}***"


@dataclass(frozen=True, slots=True)
class TokenTarget:
    customer_id: str
    field: str


def tokenize(keyring: Keyring, customer_id: str, field: str) -> str:
    payload = json.dumps([customer_id, field], separators=(",", ":")).encode()
    sealed = keyring.seal_reference(_TOKEN_CONTEXT, payload)
    return TOKEN_PREFIX + base64.urlsafe_b64encode(sealed).decode().rstrip("=")


def resolve_token(keyring: Keyring, token: str) -> TokenTarget:
    """What a token refers to; a malformed or forged token is one clear error."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 512:
        raise InvalidInput(N_("Not a privault token."))
    body = token[len(TOKEN_PREFIX) :]
    try:
        sealed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        customer_id, field = json.loads(keyring.open_reference(_TOKEN_CONTEXT, sealed))
    except (binascii.Error, ValueError, DecryptionError, TypeError):
        raise InvalidInput(N_("Not a privault token.")) from None
    return TokenTarget(str(customer_id), str(field))


def apply_view(
    keyring: Keyring, view: View, kind: KindName, customer_id: str, field: str, value: str
) -> str:
    if view == "plain":
        return value
    if view == "masked":
        return mask(kind, value)
    return tokenize(keyring, customer_id, field)
