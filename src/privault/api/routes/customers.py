"""Creating, changing and erasing customers -- each with a purpose, each decided and
audited by the access gate (a write is a use of the data too)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from privault.api.limits import offload
from privault.api.routes.access import CustomerPath, PurposeQuery
from privault.api.schemas import CustomerCreatedOut, CustomerIn, CustomerUpdateIn
from privault.api.services import CallerDep, Services

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
