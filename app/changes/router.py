"""Routes for the changes of a running contract: licences, options, suspensions
(API.md "Contracts")."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, status

from app.auth.dependencies import require
from app.auth.roles import Role
from app.auth.service import Principal
from app.changes import licences, option_changes, suspensions
from app.changes.schemas import (
    LicenceChangeCreate,
    LicenceChangeRead,
    OptionAdd,
    OptionRemoval,
    SuspensionCreate,
    SuspensionEnd,
    SuspensionRead,
)
from app.contracts import read_model
from app.contracts.guards import load
from app.contracts.schemas import ContractRead
from app.core.database import SessionDep
from app.core.http import ClockDep
from app.core.openapi import documents
from app.core.pagination import Page, PageParamsDep

router = APIRouter(prefix="/v1/contracts/{contract_id}", tags=["contract changes"])
# The suspensions' routes come after the endings' in the document (app/main.py includes
# them in that order), as they always have: the published OpenAPI document keeps its order.
suspensions_router = APIRouter(prefix="/v1/contracts/{contract_id}", tags=["contract changes"])
ContractID = Annotated[str, Path(max_length=40)]
SuspensionID = Annotated[str, Path(max_length=40)]
Operator = Annotated[Principal, Depends(require(Role.OPERATOR))]
Reader = Annotated[Principal, Depends(require(Role.OPERATOR, Role.CRM, Role.PORTAL))]


@router.get(
    "/license-changes",
    operation_id="contracts-license-changes-list",
    summary="List a contract's licence changes",
)
async def list_licence_changes(
    contract_id: ContractID, session: SessionDep, page: PageParamsDep, actor: Reader
) -> Page[LicenceChangeRead]:
    """The licence history, newest `effective_on` first, each decrease with its partial
    early-termination charge (R-LC-7, R-CHG-5)."""
    items, cursor = await licences.history(session, contract_id, actor, page)
    return Page(items=items, next_cursor=cursor)


@router.post(
    "/license-changes",
    status_code=status.HTTP_201_CREATED,
    operation_id="contracts-license-changes-create",
    summary="Change the number of licences",
    openapi_extra=documents(409),
)
async def change_licences(
    contract_id: ContractID,
    data: LicenceChangeCreate,
    session: SessionDep,
    clock: ClockDep,
    actor: Operator,
) -> LicenceChangeRead:
    """An increase applies from its date; a decrease needs notice and records its partial
    early-termination charge in the ledger (R-LC-7, R-CHG-5)."""
    return await licences.change_licences(session, contract_id, data, actor, clock)


@router.post(
    "/options",
    operation_id="contracts-options-add",
    summary="Add an option",
    openapi_extra=documents(409),
)
async def add_option(
    contract_id: ContractID,
    data: OptionAdd,
    session: SessionDep,
    clock: ClockDep,
    actor: Operator,
) -> ContractRead:
    """Adds an option to a running contract from a date."""
    contract = await option_changes.add_option(session, contract_id, data, actor, clock)
    return await read_model.build(session, contract, clock.today())


@router.post(
    "/option-removals",
    operation_id="contracts-options-remove",
    summary="Remove an option",
    openapi_extra=documents(409),
)
async def remove_option(
    contract_id: ContractID,
    data: OptionRemoval,
    session: SessionDep,
    clock: ClockDep,
    actor: Operator,
) -> ContractRead:
    """Removes an option from a running contract from a date."""
    contract = await option_changes.remove_option(session, contract_id, data, actor, clock)
    return await read_model.build(session, contract, clock.today())


@suspensions_router.post(
    "/suspensions",
    status_code=status.HTTP_201_CREATED,
    operation_id="contracts-suspend",
    summary="Suspend a contract",
    openapi_extra=documents(409),
)
async def suspend(
    contract_id: ContractID,
    data: SuspensionCreate,
    session: SessionDep,
    clock: ClockDep,
    actor: Operator,
) -> SuspensionRead:
    """Records a suspension period with its reason (R-LC-9); periods may not overlap.
    Billing goes on while suspended."""
    return await suspensions.suspend(session, contract_id, data, actor, clock)


@suspensions_router.post(
    "/suspensions/{suspension_id}/end",
    operation_id="contracts-suspension-end",
    summary="End an open-ended suspension",
    openapi_extra=documents(404, 409),
)
async def end_suspension(
    contract_id: ContractID,
    suspension_id: SuspensionID,
    data: SuspensionEnd,
    session: SessionDep,
    clock: ClockDep,
    actor: Operator,
) -> SuspensionRead:
    """Gives an open-ended suspension its last day, once (R-LC-9); the service resumes the
    day after (`contract.resumed`). A suspension that already has an end is 409."""
    return await suspensions.end_suspension(session, contract_id, suspension_id, data, actor, clock)


@suspensions_router.get(
    "/suspensions",
    operation_id="contracts-suspensions-list",
    summary="List a contract's suspensions",
)
async def list_suspensions(
    contract_id: ContractID, session: SessionDep, page: PageParamsDep, actor: Reader
) -> Page[SuspensionRead]:
    """The contract's suspension periods, the latest start first (R-LC-9); billing goes
    on while suspended."""
    contract = await load(session, contract_id, actor)
    items, cursor = await suspensions.list_suspensions(session, contract.id, page)
    return Page(items=items, next_cursor=cursor)
