"""Consent, objections and restrictions of one customer, for the compliance team.

Customers change their own choices in the preference centre; through the API only
administrators (see ``privault.api.auth``) record what a customer said through another
channel (phone, paper...), with the principal as the actor.  Each change is recorded
in the audit trail first (fail closed) and, should the change itself then fail, a
second entry says so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import APIRouter, Path

from privault.api.limits import offload
from privault.api.routes.access import PURPOSE_PATTERN, CustomerPath
from privault.api.schemas import (
    ConsentDecisionOut,
    ConsentEventOut,
    ConsentStateOut,
    GrantIn,
    LiftedOut,
    ObjectIn,
    ObjectionOut,
    ProofOut,
    RestrictIn,
    RestrictionOut,
    WithdrawIn,
)
from privault.api.services import AdminDep, ApiServices, Services
from privault.audit import Kind, Outcome
from privault.consent.schemas import (
    ConsentFacts,
    LedgerEntry,
    ObjectionView,
    Proof,
    RestrictionView,
)
from privault.errors import PrivaultError

router = APIRouter(tags=["consent"])
T = TypeVar("T")


def _event(entry: LedgerEntry) -> ConsentEventOut:
    return ConsentEventOut(
        event_id=entry.event_id,
        action=entry.action,
        purpose=entry.purpose,
        recipient=entry.recipient,
        channel=entry.channel,
        occurred_at=entry.occurred_at,
        recorded_at=entry.recorded_at,
        actor=entry.actor,
        evidence_hash=entry.evidence_hash,
        notice_key=entry.notice.key if entry.notice else None,
        notice_version=entry.notice.version if entry.notice else None,
    )


def _objection(view: ObjectionView) -> ObjectionOut:
    return ObjectionOut(
        purpose=view.purpose,
        channel=view.channel,
        recorded_at=view.recorded_at,
        lifted_at=view.lifted_at,
    )


def _restriction(view: RestrictionView) -> RestrictionOut:
    return RestrictionOut(
        channel=view.channel, recorded_at=view.recorded_at, lifted_at=view.lifted_at
    )


def _audited(
    api: ApiServices,
    principal: str,
    action: str,
    public_id: str,
    change: Callable[[], T],
    *,
    purpose: str | None = None,
    recipient: str | None = None,
    channel: str = "api",
) -> T:
    """Make the change; the consent service records it in the audit trail in the same
    transaction.  What only this layer can record is an attempt that failed."""
    try:
        return change()
    except PrivaultError as error:
        api.record(
            Kind.CONSENT,
            action,
            principal,
            Outcome.FAILED,
            purpose=purpose,
            recipient=recipient,
            subjects=(public_id,),
            details={"channel": channel},
            reasons=(error.code,),
        )
        raise


def _grant(api: ApiServices, principal: str, customer: str, body: GrantIn) -> ConsentEventOut:
    consent = api.consent
    ref = consent.resolve_customer(customer)
    if body.notice_key is not None:
        notice = consent.notice(body.notice_key, body.notice_version)
    else:
        notice = consent.notice_for(body.purpose, body.recipient)
    entry = _audited(
        api,
        principal,
        "consent.grant",
        ref.public_id,
        lambda: consent.grant(
            ref.id,
            body.purpose,
            notice=notice,
            channel=body.channel,
            actor=principal,
            recipient=body.recipient,
            evidence=body.evidence,
        ),
        purpose=body.purpose,
        recipient=body.recipient,
        channel=body.channel,
    )
    return _event(entry)


def _withdraw(api: ApiServices, principal: str, customer: str, body: WithdrawIn) -> ConsentEventOut:
    consent = api.consent
    ref = consent.resolve_customer(customer)
    entry = _audited(
        api,
        principal,
        "consent.withdraw",
        ref.public_id,
        lambda: consent.withdraw(
            ref.id, body.purpose, channel=body.channel, actor=principal, recipient=body.recipient
        ),
        purpose=body.purpose,
        recipient=body.recipient,
        channel=body.channel,
    )
    return _event(entry)


def _object(api: ApiServices, principal: str, customer: str, body: ObjectIn) -> ObjectionOut:
    consent = api.consent
    ref = consent.resolve_customer(customer)
    view = _audited(
        api,
        principal,
        "consent.object",
        ref.public_id,
        lambda: consent.object(
            ref.id, body.purpose, channel=body.channel, actor=principal, reason=body.reason
        ),
        purpose=body.purpose,
        channel=body.channel,
    )
    return _objection(view)


def _lift_objection(api: ApiServices, principal: str, customer: str, purpose: str) -> LiftedOut:
    consent = api.consent
    ref = consent.resolve_customer(customer)
    lifted = _audited(
        api,
        principal,
        "consent.lift_objection",
        ref.public_id,
        lambda: consent.lift_objection(ref.id, purpose, actor=principal),
        purpose=purpose,
    )
    return LiftedOut(lifted=lifted)


def _restrict(api: ApiServices, principal: str, customer: str, body: RestrictIn) -> RestrictionOut:
    consent = api.consent
    ref = consent.resolve_customer(customer)
    view = _audited(
        api,
        principal,
        "consent.restrict",
        ref.public_id,
        lambda: consent.restrict(ref.id, channel=body.channel, actor=principal, reason=body.reason),
        channel=body.channel,
    )
    return _restriction(view)


def _lift_restriction(api: ApiServices, principal: str, customer: str) -> LiftedOut:
    consent = api.consent
    ref = consent.resolve_customer(customer)
    lifted = _audited(
        api,
        principal,
        "consent.lift_restriction",
        ref.public_id,
        lambda: consent.lift_restriction(ref.id, actor=principal),
    )
    return LiftedOut(lifted=lifted)


def _state(api: ApiServices, customer: str) -> ConsentStateOut:
    ref = api.consent.resolve_customer(customer)
    facts: ConsentFacts = api.consent.customer_consent_state(ref.id)
    return ConsentStateOut(
        customer=ref.public_id,
        at=facts.at,
        restricted=facts.restricted,
        decisions=[
            ConsentDecisionOut(
                purpose=d.purpose,
                recipient=d.recipient,
                status=d.status,
                active=d.active_at(facts.at),
                decided_at=d.decided_at,
                expires_at=d.expires_at,
            )
            for d in facts.decisions
        ],
        objections=[_objection(o) for o in facts.objections],
        restrictions=[_restriction(r) for r in facts.restrictions],
    )


def _proof(api: ApiServices, customer: str) -> ProofOut:
    ref = api.consent.resolve_customer(customer)
    proof: Proof = api.consent.proof(ref.id)
    return ProofOut(
        customer=ref.public_id,
        events=[_event(e) for e in proof.events],
        objections=[_objection(o) for o in proof.objections],
        restrictions=[_restriction(r) for r in proof.restrictions],
    )


PREFIX = "/customers/{customer}/consent"


@router.get(PREFIX, response_model=ConsentStateOut, summary="A customer's consent state")
async def show(api: Services, who: AdminDep, customer: CustomerPath) -> ConsentStateOut:
    return await offload(api.request_timeout, _state, api, customer)


@router.get(f"{PREFIX}/proof", response_model=ProofOut, summary="Proof of consent (Art. 7(1))")
async def proof(api: Services, who: AdminDep, customer: CustomerPath) -> ProofOut:
    return await offload(api.request_timeout, _proof, api, customer)


@router.post(f"{PREFIX}/grant", status_code=201, response_model=ConsentEventOut)
async def grant(
    api: Services, who: AdminDep, customer: CustomerPath, body: GrantIn
) -> ConsentEventOut:
    """Record consent the customer gave through another channel."""
    return await offload(api.request_timeout, _grant, api, who.principal, customer, body)


@router.post(f"{PREFIX}/withdraw", status_code=201, response_model=ConsentEventOut)
async def withdraw(
    api: Services, who: AdminDep, customer: CustomerPath, body: WithdrawIn
) -> ConsentEventOut:
    """Record a withdrawal (as easy as granting, Art. 7(3))."""
    return await offload(api.request_timeout, _withdraw, api, who.principal, customer, body)


@router.post(f"{PREFIX}/objections", status_code=201, response_model=ObjectionOut)
async def object_to(
    api: Services, who: AdminDep, customer: CustomerPath, body: ObjectIn
) -> ObjectionOut:
    """Record an objection (Art. 21) to a purpose and everything under it."""
    return await offload(api.request_timeout, _object, api, who.principal, customer, body)


@router.delete(f"{PREFIX}/objections/{{purpose}}", response_model=LiftedOut)
async def lift_objection(
    api: Services,
    who: AdminDep,
    customer: CustomerPath,
    purpose: Annotated[str, Path(pattern=PURPOSE_PATTERN, max_length=128)],
) -> LiftedOut:
    return await offload(
        api.request_timeout, _lift_objection, api, who.principal, customer, purpose
    )


@router.post(f"{PREFIX}/restriction", status_code=201, response_model=RestrictionOut)
async def restrict(
    api: Services, who: AdminDep, customer: CustomerPath, body: RestrictIn
) -> RestrictionOut:
    """Restrict processing (Art. 18): from now on the customer's data is only stored."""
    return await offload(api.request_timeout, _restrict, api, who.principal, customer, body)


@router.delete(f"{PREFIX}/restriction", response_model=LiftedOut)
async def lift_restriction(api: Services, who: AdminDep, customer: CustomerPath) -> LiftedOut:
    return await offload(api.request_timeout, _lift_restriction, api, who.principal, customer)
