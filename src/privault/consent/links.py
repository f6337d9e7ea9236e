"""Signed, expiring preference-centre links.

A link carries the customer's public id, the language to answer in, and an expiry
time, signed with ``itsdangerous`` under a key the keyring derives for this purpose
alone (``Keyring.mac``) -- no key is stored or handed out.  Expiry is checked against
the injected clock, not the wall clock, so tests can travel in time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

from privault.clock import Clock
from privault.crypto import Keyring
from privault.customers.service import CustomerRef
from privault.errors import ExpiredLinkError, InvalidLinkError
from privault.i18n import Language, parse_language

LINK_PURPOSE = "consent.preference-link.v1"
PATH_PREFIX = "/preferences"


@dataclass(frozen=True, slots=True)
class LinkClaims:
    public_id: str
    lang: Language
    expires_at: datetime


class LinkSigner:
    def __init__(self, keyring: Keyring, clock: Clock, base_url: str, valid_days: int) -> None:
        self._clock = clock
        self._base_url = base_url.rstrip("/")
        self._valid = timedelta(days=valid_days)
        secret = keyring.mac(LINK_PURPOSE, b"itsdangerous-secret")
        self._serializer = URLSafeSerializer(secret, salt="privault.preference-link")

    def token(self, customer: CustomerRef, lang: str | None = None) -> str:
        expires = self._clock.now() + self._valid
        payload = {
            "c": customer.public_id,
            "l": parse_language(lang or customer.language),
            "e": int(expires.timestamp()),
        }
        return str(self._serializer.dumps(payload))

    def url(self, customer: CustomerRef, lang: str | None = None) -> str:
        return f"{self._base_url}{PATH_PREFIX}/{self.token(customer, lang)}"

    def expires_at(self) -> datetime:
        return self._clock.now() + self._valid

    def verify(self, token: str) -> LinkClaims:
        """The claims of a genuine, unexpired link; raises ``InvalidLinkError`` otherwise."""
        try:
            payload: Any = self._serializer.loads(token)
        except BadSignature:
            raise InvalidLinkError(self._language_hint(token)) from None
        if not (
            isinstance(payload, dict)
            and isinstance(payload.get("c"), str)
            and isinstance(payload.get("e"), int)
        ):
            raise InvalidLinkError(self._language_hint(token))
        lang = parse_language(str(payload.get("l", "")))
        expires = datetime.fromtimestamp(payload["e"], tz=UTC)
        if self._clock.now() >= expires:
            raise ExpiredLinkError(lang)
        return LinkClaims(payload["c"], lang, expires)

    def _language_hint(self, token: str) -> Language | None:
        """The language written in an unverified token: used only to choose the words of
        the refusal page, never to trust anything else in it."""
        try:
            _, payload = self._serializer.loads_unsafe(token)
        except Exception:  # any garbage simply has no hint
            return None
        if isinstance(payload, dict) and isinstance(payload.get("l"), str):
            return parse_language(payload["l"])
        return None
