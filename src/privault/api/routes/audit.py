"""The audit trail over HTTP, for the compliance team: verify the chain, page entries."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from privault.api.limits import offload
from privault.api.schemas import AuditEntryOut, AuditPage, VerifyOut
from privault.api.services import AdminDep, ApiServices, Lang, Services

router = APIRouter(tags=["audit"])
VERIFY_TIMEOUT_SECONDS = 600.0


def _verify(api: ApiServices, lang: str) -> VerifyOut:
    report = api.gate.audit.verify()
    data = report.as_json()
    detail = report.problem.message(lang) if report.problem is not None else ""
    return VerifyOut(**data, detail=detail)


@router.get("/audit/verify", response_model=VerifyOut, summary="Verify the audit chain")
async def verify(api: Services, who: AdminDep, lang: Lang) -> VerifyOut:
    """Checks every entry's hash and link, the signed checkpoints and the head; names the
    first bad entry.  Long for a large trail, so it has its own, longer time limit."""
    return await offload(VERIFY_TIMEOUT_SECONDS, _verify, api, lang)


def _page(api: ApiServices, limit: int, before: int | None) -> AuditPage:
    entries = api.gate.audit.entries(limit=limit, before=before)
    items = [AuditEntryOut(seq=e.seq, entry=e.entry.as_json(e.seq)) for e in entries]
    next_before = items[-1].seq if len(items) == limit and items[-1].seq > 1 else None
    return AuditPage(items=items, next_before=next_before)


@router.get("/audit/entries", response_model=AuditPage, summary="Audit entries, newest first")
async def entries(
    api: Services,
    who: AdminDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before: Annotated[int | None, Query(ge=1, le=2**53)] = None,
) -> AuditPage:
    return await offload(api.request_timeout, _page, api, limit, before)
