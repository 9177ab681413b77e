"""The charge ledger of a contract (API.md: GET and POST /v1/contracts/{id}/charges)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, status

from app.auth.dependencies import require
from app.auth.roles import Role
from app.auth.service import Principal
from app.changes.adhoc_charges import add_charge
from app.charges import service
from app.charges.schemas import AdHocChargeCreate, ChargeRead
from app.contracts.guards import load
from app.core.database import SessionDep
from app.core.http import ClockDep
from app.core.openapi import documents
from app.core.pagination import Page, PageParamsDep

router = APIRouter(prefix="/v1/contracts/{contract_id}/charges", tags=["charges"])
ContractID = Annotated[str, Path(max_length=40)]
Operator = Annotated[Principal, Depends(require(Role.OPERATOR))]
Reader = Annotated[Principal, Depends(require(Role.OPERATOR, Role.CRM, Role.PORTAL))]


@router.get("", operation_id="contracts-charges-list", summary="List a contract's charges")
async def list_charges(
    contract_id: ContractID, session: SessionDep, page: PageParamsDep, actor: Reader
) -> Page[ChargeRead]:
    """Every non-recurring charge, newest first; ``invoice_id`` is null until billed."""
    contract = await load(session, contract_id, actor)
    items, cursor = await service.page(session, contract.id, page)
    return Page(items=[ChargeRead.model_validate(c) for c in items], next_cursor=cursor)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    operation_id="contracts-charges-create",
    summary="Record an ad-hoc charge",
    openapi_extra=documents(409),
)
async def create_charge(
    contract_id: ContractID,
    data: AdHocChargeCreate,
    session: SessionDep,
    clock: ClockDep,
    actor: Operator,
) -> list[ChargeRead]:
    """An ad-hoc charge; a surcharge records X and 2X (R-CHG-8)."""
    recorded = await add_charge(session, contract_id, data, actor, clock)
    return [ChargeRead.model_validate(c) for c in recorded]
