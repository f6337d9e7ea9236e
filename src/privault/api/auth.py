"""Who is asking: ``Authorization: Bearer pv_...`` -> the key's owner, and admin checks.

The principal of a request is always the owner of the key presented; no header,
parameter or body member can name another identity.  Successful look-ups are cached
in memory for a few seconds, keyed by a SHA-256 of the key (the key itself is never
kept), so a revoked key stops working everywhere within ``CACHE_SECONDS`` -- at once
in the worker that revoked it, which drops its cache.

**Administrators** are the compliance team: principals with a role that is granted
the purpose ``essential.legal_obligation`` (in the example policy, the ``compliance``
role, e.g. ``sana.malik``), and only internal ones.  They -- and no one else -- may
change consents through the API (the customer's own path is the preference centre),
verify the audit trail, explain decisions for other principals and manage principals
and keys.  These actions state no purpose, so the rule is one fixed grant instead of
a per-field decision.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass
from typing import Final

from fastapi import Request

from privault.access.principals import PrincipalService
from privault.catalog.taxonomy import covers
from privault.errors import N_, AdminRequired, Unauthenticated
from privault.policy import Policy

CACHE_SECONDS: Final[float] = 5.0
CACHE_MAX: Final[int] = 10_000
ADMIN_PURPOSE: Final[str] = "essential.legal_obligation"
MISSING_KEY: Final = N_("Missing or malformed API key.")


@dataclass(frozen=True, slots=True)
class Caller:
    principal: str
    key_digest: str


class Authenticator:
    def __init__(self, principals: PrincipalService, ttl: float = CACHE_SECONDS) -> None:
        self.principals = principals
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
        with self._lock:
            if len(self._cache) >= CACHE_MAX:
                self._cache.clear()
            self._cache[digest] = (principal, now + self.ttl)
        return Caller(principal, digest)

    def forget(self) -> None:
        """Drop every cached key (after a revocation or rotation in this worker)."""
        with self._lock:
            self._cache.clear()


def is_admin(policy: Policy, principal: str) -> bool:
    spec = policy.principals.get(principal)
    if spec is None or not spec.internal:
        return False
    for name in spec.roles:
        role = policy.roles.get(name)
        if role is not None and any(covers(p, ADMIN_PURPOSE) for p in role.purposes):
            return True
    return False


def require_admin(policy: Policy, principal: str) -> None:
    if not is_admin(policy, principal):
        raise AdminRequired(ADMIN_PURPOSE)


def bearer(request: Request) -> str | None:
    return request.headers.get("authorization")
