"""Who is asking: ``Authorization: Bearer pv_...`` -> the key's owner.

The principal of a request is always the owner of the key presented; no header,
parameter or body member can name another identity.  A request carries exactly one
``Authorization`` header (``authorization``): with two, which key is meant -- and which
did a proxy add? -- so it is refused, on the FastAPI routes as on the direct read
path (``api/direct.py``), which share these functions.  The scheme is ``Bearer`` in any
case (RFC 7235 §2.1).  A key counts only while its owner is a principal of the policy
(file or run time): the key of someone taken out of the policy is no identity.

Successful look-ups are cached in memory for a few seconds, keyed by a SHA-256 of the
key (the key itself is never kept), so a revoked key stops working everywhere within
``CACHE_SECONDS`` -- at once in the worker that revoked it, which drops its cache.

**Administrators** are the compliance team (``privault.policy.roles``).  They -- and no
one else -- may change consents through the API (the customer's own path is the
preference centre), verify the audit trail, explain decisions for other principals and
manage principals and keys.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final

from privault.access.principals import PrincipalService
from privault.errors import N_, Unauthenticated
from privault.policy import Policy

CACHE_SECONDS: Final[float] = 5.0
CACHE_MAX: Final[int] = 10_000
MISSING_KEY: Final = N_("Missing or malformed API key.")
INVALID_KEY: Final = N_("The API key is not valid or has been revoked.")


def authorization(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    """The value of the request's one ``Authorization`` header, from the raw ASGI
    headers (names in lower case); None without one; ``Unauthenticated`` with more."""
    found: bytes | None = None
    for name, value in headers:
        if name == b"authorization":
            if found is not None:
                raise Unauthenticated(MISSING_KEY)
            found = value
    return None if found is None else found.decode("latin-1")


@dataclass(frozen=True, slots=True)
class Caller:
    principal: str
    key_digest: str


class Authenticator:
    """``policy`` gives the effective policy the gate decides with (refreshed every
    few seconds); a key's owner must be one of its principals, or one added since."""

    def __init__(
        self,
        principals: PrincipalService,
        policy: Callable[[], Policy],
        ttl: float = CACHE_SECONDS,
    ) -> None:
        self.principals = principals
        self.policy = policy
        self.ttl = ttl
        self._cache: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _key(authorization: str | None) -> tuple[str, str]:
        scheme, _, key = (authorization or "").strip().partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not key.startswith("pv_") or len(key) > 200:
            raise Unauthenticated(MISSING_KEY)
        return key, hashlib.sha256(key.encode()).hexdigest()

    def cached(self, authorization: str | None) -> Caller | None:
        """The caller if this key was accepted moments ago (no database round trip)."""
        _, digest = self._key(authorization)
        hit = self._cache.get(digest)
        if hit is not None and hit[1] > time.monotonic():
            return Caller(hit[0], digest)
        return None

    def authenticate(self, authorization: str | None) -> Caller:
        key, digest = self._key(authorization)
        now = time.monotonic()
        hit = self._cache.get(digest)
        if hit is not None and hit[1] > now:
            return Caller(hit[0], digest)
        principal = self.principals.authenticate(key)
        if not self._known(principal):
            raise Unauthenticated(INVALID_KEY)
        with self._lock:
            if len(self._cache) >= CACHE_MAX:
                self._cache.clear()
            self._cache[digest] = (principal, now + self.ttl)
        return Caller(principal, digest)

    def _known(self, principal: str) -> bool:
        """A principal of the effective policy, or one added since it was last read."""
        return principal in self.policy().principals or principal in self.principals.stored()

    def forget(self) -> None:
        """Drop every cached key (after a revocation or rotation in this worker)."""
        with self._lock:
            self._cache.clear()
