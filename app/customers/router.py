from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response, status

from app.auth.dependencies import require
from app.auth.roles import Role
from app.auth.service import Principal
from app.core.database import SessionDep
from app.core.http import ClockDep, json_response
from app.core.lean import lean_post
from app.core.openapi import documents
from app.core.pagination import Page, PageParamsDep
from app.customers import service
from app.customers.models import Customer
from app.customers.repository import CustomerRepository
from app.customers.schemas import CustomerCreate, CustomerRead, CustomerUpdate

router = APIRouter(prefix="/v1/customers", tags=["customers"])
CustomerID = Annotated[str, Path(max_length=40)]
Writer = Annotated[Principal, Depends(require(Role.OPERATOR, Role.CRM))]
Reader = Annotated[Principal, Depends(require(Role.OPERATOR, Role.CRM, Role.PORTAL))]


def _read(customer: Customer, response: Response) -> CustomerRead:
    response.headers["ETag"] = service.etag(customer)
    return CustomerRead.model_validate(customer)


@lean_post(
    router,
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=CustomerRead,
    operation_id="customers-create",
    summary="Register a customer",
    openapi_extra=documents(409, etag=True, location=True),
)
async def create_customer(
    data: CustomerCreate, session: SessionDep, clock: ClockDep, actor: Writer
) -> Response:
    """`external_ref`, the CRM's id, is unique: one already taken is a 409. Answers with
    the customer's `Location` and its `ETag`."""
    customer = await service.create_customer(session, data, actor, clock)
    # A LeanRoute (issue 11): FastAPI's dependency walk, body path and second validation
    # of the answer were a third of a create's CPU.
    headers = {"Location": f"/v1/customers/{customer.id}", "ETag": service.etag(customer)}
    return json_response(customer, status_code=status.HTTP_201_CREATED, headers=headers)


@router.get("", operation_id="customers-list", summary="List customers")
async def list_customers(
    session: SessionDep,
    page: PageParamsDep,
    actor: Reader,
    external_ref: Annotated[str | None, Query(max_length=100)] = None,
    name: Annotated[str | None, Query(max_length=200, description="Part of the name.")] = None,
) -> Page[CustomerRead]:
    """Newest first; filter by `external_ref` or part of the name. A portal key sees only
    its own customer (R-PTN-3)."""
    only_id = actor.customer_id if actor.role is Role.PORTAL else None
    items, cursor = await CustomerRepository(session).page(
        page, external_ref=external_ref, name=name, only_id=only_id
    )
    return Page(items=[CustomerRead.model_validate(c) for c in items], next_cursor=cursor)


@router.get(
    "/{customer_id}",
    operation_id="customers-get",
    summary="Read a customer",
    openapi_extra=documents(etag=True),
)
async def get_customer(
    customer_id: CustomerID, session: SessionDep, actor: Reader, response: Response
) -> CustomerRead:
    """With its `ETag`, to send back as `If-Match` when changing it. For a portal key
    another customer is a 404."""
    return _read(await service.get_customer(session, customer_id, actor), response)


@router.patch(
    "/{customer_id}",
    operation_id="customers-update",
    summary="Change a customer",
    openapi_extra=documents(409, 412, etag=True),
)
async def update_customer(
    customer_id: CustomerID,
    data: CustomerUpdate,
    session: SessionDep,
    clock: ClockDep,
    actor: Writer,
    response: Response,
    request: Request,
    if_match: Annotated[str | None, Header(description="The ETag you read.")] = None,
) -> CustomerRead:
    """Only the fields sent change; null clears an optional field. With `If-Match`, a
    stale ETag is a 412 and nothing changes."""
    customer = await service.update_customer(
        session,
        customer_id,
        data,
        if_match,
        actor,
        clock,
        before_identifiers_change=request.app.state.before_customer_identifiers_change,
    )
    return _read(customer, response)
