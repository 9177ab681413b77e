"""Contracts: applications, decisions, reads and history (API.md "Contracts")."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response, status

from app.auth.dependencies import require
from app.auth.roles import Role
from app.auth.service import Principal
from app.contracts import applications, read_model
from app.contracts.guards import load
from app.contracts.repository import ContractRepository
from app.contracts.schemas import (
    AcceptRequest,
    ApplicationCreate,
    ContractRead,
    EventRead,
    RejectRequest,
    WithdrawRequest,
)
from app.contracts.states import Status
from app.core.database import ReadConnectionDep, SessionDep
from app.core.http import ClockDep, json_response, json_text_response
from app.core.lean import lean_get
from app.core.openapi import documents
from app.core.pagination import Page, PageParamsDep

router = APIRouter(prefix="/v1/contracts", tags=["contracts"])
ContractID = Annotated[str, Path(max_length=40)]
Applicant = Annotated[Principal, Depends(require(Role.OPERATOR, Role.CRM))]
Operator = Annotated[Principal, Depends(require(Role.OPERATOR))]
Reader = Annotated[Principal, Depends(require(Role.OPERATOR, Role.CRM, Role.PORTAL))]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    operation_id="contracts-apply",
    summary="Apply for a contract",
    openapi_extra=documents(location=True),
)
async def apply(
    data: ApplicationCreate,
    session: SessionDep,
    clock: ClockDep,
    actor: Applicant,
    response: Response,
) -> ContractRead:
    """Files an application for a customer, priced from the price book in force. It waits
    as `applied` for an operator to accept or reject it (R-LC-1, R-LC-2)."""
    contract = await applications.apply(session, data, actor, clock)
    response.headers["Location"] = f"/v1/contracts/{contract.id}"
    return await read_model.build(session, contract, clock.today())


@lean_get(
    router,
    "",
    response_model=Page[ContractRead],
    operation_id="contracts-list",
    summary="List contracts",
)
async def list_contracts(
    connection: ReadConnectionDep,
    clock: ClockDep,
    page: PageParamsDep,
    actor: Reader,
    customer_id: Annotated[str | None, Query(max_length=40)] = None,
    status_: Annotated[Status | None, Query(alias="status")] = None,
) -> Response:
    """Newest first; filter by customer or status. A portal key lists only its own
    customer's contracts (R-PTN-3)."""
    if actor.role is Role.PORTAL:
        # R-PTN-3: a portal key lists its own customer's contracts, whatever it asks for.
        if customer_id not in (None, actor.customer_id):
            return json_response(Page[ContractRead](items=[], next_cursor=None))
        customer_id = actor.customer_id
    contracts = await read_model.page(
        connection,
        page,
        clock.today(),
        customer_id=customer_id,
        status=status_.value if status_ else None,
    )
    return json_text_response(contracts)


@lean_get(
    router,
    "/{contract_id}",
    response_model=ContractRead,
    operation_id="contracts-get",
    summary="Read a contract",
    openapi_extra=documents(etag=True),
)
async def get_contract(
    contract_id: ContractID, connection: ReadConnectionDep, clock: ClockDep, actor: Reader
) -> Response:
    """The contract as it stands today, with an `ETag` that changes with every recorded
    change."""
    contract, tag = await read_model.read(connection, contract_id, actor, clock.today())
    return json_text_response(contract, headers={"ETag": tag})


@router.get(
    "/{contract_id}/events", operation_id="contracts-events", summary="List a contract's history"
)
async def list_events(
    contract_id: ContractID, session: SessionDep, page: PageParamsDep, actor: Reader
) -> Page[EventRead]:
    """The contract's history, newest first (R-LC-10)."""
    await load(session, contract_id, actor)
    events, cursor = await ContractRepository(session).events_page(contract_id, page)
    return Page(items=[EventRead.model_validate(e) for e in events], next_cursor=cursor)


@router.post(
    "/{contract_id}/accept",
    operation_id="contracts-accept",
    summary="Accept an application",
    openapi_extra=documents(409),
)
async def accept(
    contract_id: ContractID,
    session: SessionDep,
    clock: ClockDep,
    actor: Operator,
    data: AcceptRequest | None = None,
) -> ContractRead:
    """Applications are accepted in the order received (R-LC-2): one while an earlier one
    is still `applied` is a 409 `earlier_application_pending`, unless the request gives an
    `out_of_order_reason`. The acceptance date is the receipt date (R-LC-3)."""
    contract = await applications.accept(
        session, contract_id, data or AcceptRequest(), actor, clock
    )
    return await read_model.build(session, contract, clock.today())


@router.post(
    "/{contract_id}/reject",
    operation_id="contracts-reject",
    summary="Reject an application",
    openapi_extra=documents(409),
)
async def reject(
    contract_id: ContractID,
    data: RejectRequest,
    session: SessionDep,
    clock: ClockDep,
    actor: Operator,
) -> ContractRead:
    """Ends an application with one reason code and the notice text sent to the
    applicant (R-LC-4); nothing is billed."""
    contract = await applications.reject(session, contract_id, data, actor, clock)
    return await read_model.build(session, contract, clock.today())


@router.post(
    "/{contract_id}/withdraw",
    operation_id="contracts-withdraw",
    summary="Withdraw an application",
    openapi_extra=documents(409),
)
async def withdraw(
    contract_id: ContractID,
    session: SessionDep,
    clock: ClockDep,
    actor: Applicant,
    data: WithdrawRequest | None = None,
) -> ContractRead:
    """The applicant takes the application back before it is decided; nothing is billed."""
    contract = await applications.withdraw(
        session, contract_id, data or WithdrawRequest(), actor, clock
    )
    return await read_model.build(session, contract, clock.today())
