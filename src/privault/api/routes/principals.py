"""Principals and API keys, for administrators (the compliance team, see ``api.auth``).

Keys are shown once, when issued; only their hashes are stored.  Every change is an
audit entry of kind ``key`` naming the administrator and, as ``recipient``, the
principal it concerns.  A revocation takes effect at once in this worker and within
``api.auth.CACHE_SECONDS`` in the others.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from privault.access.principals import IssuedKey
from privault.api.limits import offload
from privault.api.schemas import IssuedKeyOut, KeyOut, PrincipalIn, PrincipalOut, PrincipalsPage
from privault.api.services import AdminDep, ApiServices, Services
from privault.policy.roles import is_compliance

router = APIRouter(tags=["principals"])
NamePath = Annotated[str, Path(pattern=r"^[^\W_][\w.@-]{0,127}$")]


def _issued(issued: IssuedKey) -> IssuedKeyOut:
    return IssuedKeyOut(principal=issued.principal, key_id=issued.key_id, api_key=issued.secret)


def _page(api: ApiServices, limit: int, after: str | None) -> PrincipalsPage:
    api.gate.refresh()
    policy = api.policy
    names = sorted(n for n in policy.principals if after is None or n > after)
    chosen = names[:limit]
    keys = api.principals.keys()
    items = []
    for name in chosen:
        spec = policy.principals[name]
        items.append(
            PrincipalOut(
                name=name,
                roles=list(spec.roles),
                internal=spec.internal,
                kind=spec.kind,
                organisation=spec.organisation,
                admin=is_compliance(policy, name),
                keys=[
                    KeyOut(
                        key_id=k.key_id,
                        principal=k.principal,
                        created_at=k.created_at,
                        revoked_at=k.revoked_at,
                    )
                    for k in keys
                    if k.principal == name
                ],
            )
        )
    next_after = chosen[-1] if len(names) > limit else None
    return PrincipalsPage(items=items, next_after=next_after)


@router.get("/principals", response_model=PrincipalsPage, summary="Principals and their keys")
async def list_principals(
    api: Services,
    who: AdminDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    after: Annotated[str | None, Query(max_length=128)] = None,
) -> PrincipalsPage:
    return await offload(api.request_timeout, _page, api, limit, after)


def _add(api: ApiServices, admin: str, body: PrincipalIn) -> IssuedKeyOut:
    issued = api.principals.add(
        api.file_policy(),
        body.name,
        list(body.roles),
        actor=admin,
        external=body.external,
        organisation=body.organisation,
        kind=body.kind,
    )
    api.gate.refresh()
    return _issued(issued)


@router.post("/principals", status_code=201, response_model=IssuedKeyOut)
async def add_principal(api: Services, who: AdminDep, body: PrincipalIn) -> IssuedKeyOut:
    """Add a principal with roles of the policy; its first API key is in the answer."""
    return await offload(api.request_timeout, _add, api, who.principal, body)


def _issue(api: ApiServices, admin: str, name: str) -> IssuedKeyOut:
    return _issued(api.principals.issue_key(api.policy, name, actor=admin))


@router.post("/principals/{name}/keys", status_code=201, response_model=IssuedKeyOut)
async def issue_key(api: Services, who: AdminDep, name: NamePath) -> IssuedKeyOut:
    """An additional key for a principal (shown once)."""
    return await offload(api.request_timeout, _issue, api, who.principal, name)


def _rotate(api: ApiServices, admin: str, name: str) -> IssuedKeyOut:
    issued = api.principals.rotate(api.policy, name, actor=admin)
    api.auth.forget()
    return _issued(issued)


@router.post("/principals/{name}/rotate", status_code=201, response_model=IssuedKeyOut)
async def rotate_key(api: Services, who: AdminDep, name: NamePath) -> IssuedKeyOut:
    """A new key; every older key of the principal is revoked."""
    return await offload(api.request_timeout, _rotate, api, who.principal, name)


def _revoke(api: ApiServices, admin: str, key_id: str) -> None:
    api.principals.revoke(key_id, actor=admin)
    api.auth.forget()


@router.delete("/keys/{key_id}", status_code=204, summary="Revoke an API key")
async def revoke_key(
    api: Services, who: AdminDep, key_id: Annotated[str, Path(pattern=r"^[0-9a-f]{16}$")]
) -> Response:
    await offload(api.request_timeout, _revoke, api, who.principal, key_id)
    return Response(status_code=204)
