"""What the REST routers call: the library's services over one vault, built once per
worker, plus the per-request dependencies (the caller, the language)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated

import anyio
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from privault.access.gate import AccessGate, ReadResult
from privault.access.principals import PrincipalService
from privault.api.auth import Authenticator, Caller, authorization
from privault.api.limits import REQUEST_TIMEOUT_SECONDS, offload
from privault.audit import AuditEntry, Kind, Outcome
from privault.audit.group import LoopGroup
from privault.consent.service import ConsentService
from privault.i18n import Language, negotiate
from privault.policy import Policy, load_policy
from privault.policy.roles import require_compliance
from privault.runtime import Vault
from privault.store.db import long_writes_running


@dataclass
class ApiServices:
    vault: Vault
    gate: AccessGate
    consent: ConsentService
    principals: PrincipalService
    auth: Authenticator
    loop_audit: LoopGroup
    request_timeout: float = REQUEST_TIMEOUT_SECONDS
    # The connection this worker's event loop reads SQLite on (see ``read``).
    _loop_connection: Connection | None = field(default=None, init=False, repr=False)

    @classmethod
    def build(cls, vault: Vault) -> ApiServices:
        gate = AccessGate(vault)
        return cls(
            vault=vault,
            gate=gate,
            consent=ConsentService.from_vault(vault),
            principals=gate.principals,
            auth=Authenticator(gate.principals, lambda: gate.engine.policy),
            loop_audit=LoopGroup(gate.audit.record_many),
        )

    async def read(
        self, principal: str, purpose: str, customer: str, fields: Sequence[str]
    ) -> ReadResult:
        """``AccessGate.read`` for a request: on SQLite, right here on the event loop,
        awaiting the commit of its audit entry with the other reads of this turn of
        the loop (``LoopGroup``); otherwise in a thread under the request deadline.

        Handing a read to a thread and back costs more CPU than an audited read on
        SQLite (a local file, a few indexed statements), and threads contending for
        the GIL spread the latencies.  The loop may wait for a short write of another
        worker; while an import or a key rotation runs (``store.db.long_writes``),
        whose writes come one after another, the read goes to a thread so the loop
        never waits behind them.  PostgreSQL reads always go to a thread (each
        statement is a network round trip).

        On the loop, the customer is read on one connection the loop keeps (checking
        one out of the pool and back cost ~60 us a read, a sixth of it): the loop runs
        one read's statements at a time, and they open no transaction, so reads that
        interleave at their awaits can share it.  The audit entries commit on pooled
        connections as before.
        """
        engine = self.vault.engine
        if engine.dialect.name != "sqlite" or long_writes_running(engine):
            return await offload(
                self.request_timeout, self.gate.read, principal, purpose, customer, fields
            )
        if self._loop_connection is None:
            self._loop_connection = engine.connect()
        steps = self.gate.read_steps(
            principal, purpose, customer, fields, connection=self._loop_connection
        )
        try:
            entry = next(steps)
            while True:
                chained = await self.loop_audit.record(entry)
                entry = steps.send(chained.seq)
        except StopIteration as done:
            result: ReadResult = done.value
            return result
        except SQLAlchemyError:
            # Whatever broke, the next read starts on a fresh connection.
            broken, self._loop_connection = self._loop_connection, None
            if broken is not None:
                broken.invalidate()
            raise

    def close(self) -> None:
        """Give back the loop's connection (at shutdown)."""
        connection, self._loop_connection = self._loop_connection, None
        if connection is not None:
            connection.close()

    @property
    def policy(self) -> Policy:
        """The effective policy (file + run-time principals), as the gate decides with it."""
        return self.gate.engine.policy

    def file_policy(self) -> Policy:
        return load_policy(self.vault.settings.policy_path, self.vault.taxonomy)

    def record(
        self,
        kind: Kind,
        action: str,
        principal: str,
        outcome: Outcome = Outcome.SUCCEEDED,
        **fields: object,
    ) -> int:
        """One audit entry for a change made through the API (names and codes only)."""
        entry = AuditEntry(
            at=self.vault.clock.now(),
            kind=kind,
            action=action,
            principal=principal,
            outcome=outcome,
            **fields,  # type: ignore[arg-type]
        )
        return self.gate.audit.record(entry).seq


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
