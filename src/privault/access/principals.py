"""Principals and their API keys.

The policy file declares principals; ``privault principals add`` adds more at run time
(stored in the database, validated against the policy's roles).  The effective policy
is the file's plus the database's.  API keys are ``pv_<id>_<secret>``: the id finds the
row, the secret is compared by SHA-256 in constant time, and the key itself is shown
once and never stored.  The principal of a request is always the key's owner.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Final

from sqlalchemy import CursorResult, Engine, insert, select, update
from sqlalchemy.orm import Session

from privault.access.models import ApiKeyRecord, PrincipalRecord
from privault.audit import AuditEntry, AuditLog, Kind, Outcome
from privault.clock import Clock
from privault.errors import N_, Conflict, InvalidInput, NotFound, Unauthenticated
from privault.policy import Policy, PrincipalSpec
from privault.store.db import session_scope
from privault.store.tables import table_of

PRINCIPALS = table_of(PrincipalRecord)
KEYS = table_of(ApiKeyRecord)
NAME = re.compile(r"^[^\W_][\w.@-]{0,127}$")
KEY_FORMAT: Final = re.compile(r"^pv_(?P<id>[0-9a-f]{16})_(?P<secret>[A-Za-z0-9_-]{43})$")


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A newly issued key.  ``secret`` is shown to the person once and then forgotten."""

    key_id: str
    principal: str
    secret: str


@dataclass(frozen=True, slots=True)
class KeyInfo:
    key_id: str
    principal: str
    created_at: datetime
    revoked_at: datetime | None


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class PrincipalService:
    """Every change (a principal added, a key issued, rotated or revoked) writes its audit
    entry in the same transaction: no entry, no change."""

    def __init__(self, engine: Engine, clock: Clock, audit: AuditLog) -> None:
        self.engine = engine
        self.clock = clock
        self.audit = audit

    def _audit(self, session: Session, action: str, actor: str, target: str, **more: Any) -> None:
        self.audit.append(
            session.connection(),
            AuditEntry(
                at=self.clock.now(),
                kind=Kind.KEY,
                action=action,
                principal=actor,
                outcome=Outcome.SUCCEEDED,
                recipient=target,
                **more,
            ),
        )

    # -- principals -------------------------------------------------------------------

    def stored(self) -> dict[str, PrincipalSpec]:
        with self.engine.connect() as connection:
            rows = connection.execute(select(PRINCIPALS)).all()
        return {
            row.name: PrincipalSpec(
                name=row.name,
                roles=tuple(row.roles.split()),
                internal=row.internal,
                kind="service" if row.kind == "service" else "person",
                organisation=row.organisation,
            )
            for row in rows
        }

    def effective_policy(self, policy: Policy) -> Policy:
        """The policy file's principals plus those added at run time."""
        stored = self.stored()
        if not stored:
            return policy
        return replace(policy, principals={**policy.principals, **stored})

    def add(
        self,
        policy: Policy,
        name: str,
        roles: list[str],
        *,
        actor: str,
        external: bool = False,
        organisation: str | None = None,
        kind: str = "person",
    ) -> IssuedKey:
        """Add a principal (its roles must exist in the policy) and issue its first key."""
        if not NAME.fullmatch(name):
            raise InvalidInput(
                N_("A principal name is letters, digits, '.', '@' or '-' (max 128).")
            )
        if not roles:
            raise InvalidInput(N_("A principal needs at least one role."))
        unknown = [r for r in roles if r not in policy.roles]
        if unknown:
            raise InvalidInput(
                N_("Unknown role(s): %(roles)s; the policy defines: %(known)s"),
                roles=", ".join(unknown),
                known=", ".join(sorted(policy.roles)),
            )
        if external and (organisation is None or organisation not in policy.recipients):
            raise InvalidInput(
                N_("An external principal needs --organisation, one of: %(known)s"),
                known=", ".join(sorted(policy.recipients)) or "-",
            )
        if kind not in ("person", "service"):
            raise InvalidInput(N_("The kind of a principal is 'person' or 'service'."))
        if name in policy.principals or name in self.stored():
            raise Conflict(N_("A principal named '%(name)s' already exists."), name=name)
        with session_scope(self.engine) as session:
            session.execute(
                insert(PRINCIPALS).values(
                    name=name,
                    roles=" ".join(roles),
                    internal=not external,
                    kind=kind,
                    organisation=organisation if external else None,
                    created_at=self.clock.now(),
                )
            )
            issued = self._new_key(session, name)
            self._audit(session, "principal.add", actor, name, details={"roles": tuple(roles)})
        return issued

    # -- keys -------------------------------------------------------------------------

    def issue_key(self, policy: Policy, principal: str, *, actor: str) -> IssuedKey:
        """A new key for a principal of the policy file or of the database."""
        self._require(policy, principal)
        with session_scope(self.engine) as session:
            issued = self._new_key(session, principal)
            self._audit(
                session, "key.issue", actor, principal, details={"key": f"key:{issued.key_id}"}
            )
        return issued

    def _require(self, policy: Policy, principal: str) -> None:
        if principal not in policy.principals and principal not in self.stored():
            raise NotFound(N_("No principal named '%(name)s'."), name=principal)

    def _new_key(self, session: Session, principal: str, note: str = "") -> IssuedKey:
        key_id = secrets.token_hex(8)
        secret = secrets.token_urlsafe(32)
        session.execute(
            insert(KEYS).values(
                id=key_id,
                principal=principal,
                secret_sha256=_digest(secret),
                created_at=self.clock.now(),
                note=note[:200],
            )
        )
        return IssuedKey(key_id, principal, f"pv_{key_id}_{secret}")

    def keys(self, principal: str | None = None) -> list[KeyInfo]:
        query = select(KEYS).order_by(KEYS.c.created_at, KEYS.c.id)
        if principal is not None:
            query = query.where(KEYS.c.principal == principal)
        with self.engine.connect() as connection:
            return [
                KeyInfo(r.id, r.principal, r.created_at, r.revoked_at)
                for r in connection.execute(query)
            ]

    def revoke(self, key_id: str, *, actor: str) -> str:
        """Revoke one active key; returns its owner."""
        with session_scope(self.engine) as session:
            owner = session.execute(
                select(KEYS.c.principal).where(KEYS.c.id == key_id, KEYS.c.revoked_at.is_(None))
            ).scalar()
            if owner is None:
                raise NotFound(N_("No active API key with id '%(key)s'."), key=key_id)
            session.execute(
                update(KEYS)
                .where(KEYS.c.id == key_id, KEYS.c.revoked_at.is_(None))
                .values(revoked_at=self.clock.now())
            )
            self._audit(session, "key.revoke", actor, str(owner), details={"key": f"key:{key_id}"})
        return str(owner)

    def rotate(self, policy: Policy, principal: str, *, actor: str) -> IssuedKey:
        """Issue a new key and revoke every older key of the principal, at once."""
        self._require(policy, principal)
        with session_scope(self.engine) as session:
            new = self._new_key(session, principal, note="rotated")
            revoked: CursorResult[Any] = session.execute(  # type: ignore[assignment]
                update(KEYS)
                .where(
                    KEYS.c.principal == principal,
                    KEYS.c.id != new.key_id,
                    KEYS.c.revoked_at.is_(None),
                )
                .values(revoked_at=self.clock.now())
            )
            self._audit(
                session,
                "key.rotate",
                actor,
                principal,
                details={"key": f"key:{new.key_id}"},
                counts={"revoked": int(revoked.rowcount or 0)},
            )
        return new

    def authenticate(self, presented: str) -> str:
        """The principal owning ``presented``; ``Unauthenticated`` for anything else."""
        match = KEY_FORMAT.fullmatch(presented.strip())
        if match is None:
            raise Unauthenticated(N_("Missing or malformed API key."))
        with self.engine.connect() as connection:
            row = connection.execute(
                select(KEYS.c.principal, KEYS.c.secret_sha256, KEYS.c.revoked_at).where(
                    KEYS.c.id == match["id"]
                )
            ).one_or_none()
        if (
            row is None
            or row.revoked_at is not None
            or not hmac.compare_digest(row.secret_sha256, _digest(match["secret"]))
        ):
            raise Unauthenticated(N_("The API key is not valid or has been revoked."))
        return str(row.principal)
