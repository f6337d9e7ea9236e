"""Explain a decision without touching data: what would happen, and why, in words."""

from __future__ import annotations

from fastapi import APIRouter

from privault.api.limits import offload
from privault.api.schemas import ExplainIn, ExplainOut
from privault.api.services import ApiServices, CallerDep, Lang, Services
from privault.policy import Request, explain
from privault.policy.roles import require_compliance

router = APIRouter(tags=["policy"])


def _explain(api: ApiServices, caller: str, body: ExplainIn, lang: str) -> ExplainOut:
    principal = body.principal or caller
    if principal != caller:
        require_compliance(api.policy, caller)  # only compliance may ask about another
    decision = api.gate.decide(
        Request(
            principal,
            body.purpose,
            tuple(dict.fromkeys(body.fields)),
            body.action,
            body.recipient,
            body.customers,
            body.approved,
        )
    )
    return ExplainOut(decision=decision.as_dict(), explanation=explain(decision, lang).as_dict())


@router.post(
    "/policy/explain",
    response_model=ExplainOut,
    summary="Decide a request without data, and explain the decision",
)
async def explain_request(api: Services, who: CallerDep, body: ExplainIn, lang: Lang) -> ExplainOut:
    """For the caller itself, or -- for the compliance team -- for any principal.  The
    explanation is in the language of ``Accept-Language`` (en, cs, ur)."""
    return await offload(api.request_timeout, _explain, api, who.principal, body, lang)
