"""Creating, changing and erasing customers -- each with a purpose, each decided and
audited by the access gate (a write is a use of the data too)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from privault.api.limits import offload
from privault.api.routes.access import CustomerPath, PurposeQuery
from privault.api.schemas import (
    CustomerCreatedOut,
    CustomerIn,
    CustomerUpdateIn,
    FindIn,
    FoundOut,
)
from privault.api.services import AdminDep, CallerDep, Services
from privault.errors import N_, InvalidInput

router = APIRouter(tags=["customers"])


@router.post(
    "/customers", status_code=201, response_model=CustomerCreatedOut, summary="Create a customer"
)
async def create_customer(api: Services, who: CallerDep, body: CustomerIn) -> CustomerCreatedOut:
    ref = await offload(
        api.request_timeout,
        api.gate.create,
        who.principal,
        body.purpose,
        dict(body.values),
        language=body.language,
    )
    return CustomerCreatedOut(customer=ref.public_id, language=ref.language)


@router.post(
    "/customers/find",
    response_model=list[FoundOut],
    summary="Which customers have this e-mail or phone (public ids only; compliance team)",
)
async def find_customers(api: Services, who: AdminDep, body: FindIn) -> list[FoundOut]:
    """Looks the value up through the blind index, decrypts nothing, and records the
    lookup in the audit trail before answering.  An empty list when none matches."""
    given = [(name, value) for name, value in (("email", body.email), ("phone", body.phone))]
    chosen = [(name, value) for name, value in given if value is not None]
    if len(chosen) != 1:
        raise InvalidInput(N_("Give exactly one of email or phone."))
    ((field, value),) = chosen
    found = await offload(api.request_timeout, api.gate.find_ids, who.principal, field, value)
    return [FoundOut(customer=public_id) for public_id in found]


@router.patch("/customers/{customer}", status_code=204, summary="Change a customer's fields")
async def update_customer(
    api: Services, who: CallerDep, customer: CustomerPath, body: CustomerUpdateIn
) -> Response:
    await offload(
        api.request_timeout,
        api.gate.write,
        who.principal,
        body.purpose,
        customer,
        dict(body.values),
    )
    return Response(status_code=204)


@router.delete(
    "/customers/{customer}",
    status_code=204,
    summary="Erase a customer (crypto-shredding: the data key is destroyed)",
)
async def delete_customer(
    api: Services, who: CallerDep, customer: CustomerPath, purpose: PurposeQuery
) -> Response:
    await offload(api.request_timeout, api.gate.delete, who.principal, purpose, customer)
    return Response(status_code=204)
