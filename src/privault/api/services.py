"""What the REST routers call: the library's services over one vault, built once per
worker, plus the per-request dependencies (the caller, the language)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated

import anyio
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from privault.access.gate import AccessGate, ReadResult
from privault.access.principals import PrincipalService
from privault.access.reads import ReadScheduler
from privault.api.auth import Authenticator, Caller, authorization
from privault.audit import AuditEntry, Kind, Outcome
from privault.consent.service import ConsentService
from privault.i18n import Language, negotiate
from privault.policy import Policy
from privault.policy.roles import require_compliance
from privault.runtime import Vault


@dataclass
class ApiServices:
    """The composition root's services as the routers use them, and the worker's
    authenticator (with its small cache of recently accepted keys)."""

    vault: Vault
    auth: Authenticator
    # One scan at a time per worker: the shared index is refreshed before each.
    scan_lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def build(cls, vault: Vault) -> ApiServices:
        return cls(
            vault=vault,
            auth=Authenticator(vault.principals, lambda: vault.gate.engine.policy),
        )

    @property
    def gate(self) -> AccessGate:
        return self.vault.gate

    @property
    def consent(self) -> ConsentService:
        return self.vault.consent

    @property
    def principals(self) -> PrincipalService:
        return self.vault.principals

    @property
    def reads(self) -> ReadScheduler:
        return self.vault.reads

    @property
    def request_timeout(self) -> float:
        return self.vault.reads.timeout

    @request_timeout.setter
    def request_timeout(self, seconds: float) -> None:
        self.vault.reads.timeout = seconds

    async def read(
        self, principal: str, purpose: str, customer: str, fields: Sequence[str]
    ) -> ReadResult:
        """A single-customer read, scheduled by the domain (``access.reads``)."""
        return await self.vault.reads.read(principal, purpose, customer, fields)

    @property
    def policy(self) -> Policy:
        """The effective policy (file + run-time principals), as the gate decides with it."""
        return self.gate.engine.policy

    def file_policy(self) -> Policy:
        return self.vault.policy

    def record(
        self,
        kind: Kind,
        action: str,
        principal: str,
        outcome: Outcome = Outcome.SUCCEEDED,
        **fields: object,
    ) -> int:
        """One audit entry for an attempt made through the API (names and codes only)."""
        entry = AuditEntry(
            at=self.vault.clock.now(),
            kind=kind,
            action=action,
            principal=principal,
            outcome=outcome,
            **fields,  # type: ignore[arg-type]
        )
        return self.vault.audit.record(entry).seq


def services(request: Request) -> ApiServices:
    found = request.app.state.api
    assert isinstance(found, ApiServices)
    return found


async def _services(request: Request) -> ApiServices:
    # Dependencies are ``async def`` when they do not block: FastAPI runs a plain
    # ``def`` dependency in the thread pool, a hand-off on every request.
    return services(request)


BEARER = HTTPBearer(
    auto_error=False,
    bearerFormat="pv_<id>_<secret>",
    description="An API key issued by 'privault principals add' or POST /api/v1/principals.",
)


async def caller(
    request: Request,
    _documented: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)] = None,
) -> Caller:
    """The key's owner -- the only identity a request can have."""
    auth = services(request).auth
    header = authorization(request.scope["headers"])
    found = auth.cached(header)
    if found is None:
        found = await anyio.to_thread.run_sync(auth.authenticate, header)
    return found


async def language(request: Request) -> Language:
    return negotiate(request.headers.get("accept-language"))


async def admin(request: Request) -> Caller:
    who = await caller(request, None)
    api = services(request)
    policy = await anyio.to_thread.run_sync(lambda: api.policy)
    require_compliance(policy, who.principal)
    return who


Services = Annotated[ApiServices, Depends(_services)]
CallerDep = Annotated[Caller, Depends(caller)]
AdminDep = Annotated[Caller, Depends(admin)]
Lang = Annotated[Language, Depends(language)]
