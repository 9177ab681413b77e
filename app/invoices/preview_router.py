"""The invoice preview of a contract for a month (API.md "Contracts")."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from app.auth.dependencies import require
from app.auth.roles import Role
from app.auth.service import Principal
from app.contracts.guards import load
from app.core.database import SessionDep
from app.core.http import ClockDep
from app.core.validation import BusinessMonth
from app.invoices import preview
from app.invoices.billing_schemas import InvoicePreviewRead
from app.pricing.calendar import Month

router = APIRouter(prefix="/v1/contracts", tags=["contracts"])
ContractID = Annotated[str, Path(max_length=40)]
Reader = Annotated[Principal, Depends(require(Role.OPERATOR, Role.CRM, Role.PORTAL))]


@router.get(
    "/{contract_id}/invoice-preview",
    operation_id="contracts-invoice-preview",
    summary="Preview a month's invoice",
)
async def invoice_preview(
    contract_id: ContractID,
    month: Annotated[BusinessMonth, Query(description="`YYYY-MM`, past or future.")],
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    actor: Reader,
) -> InvoicePreviewRead:
    """What the month's monthly invoice would be, not stored; for a month already
    invoiced, the invoice as issued (`invoiced: true`). A month not yet invoiced shows the
    issue and due dates a run started today would give it (R-INV-1)."""
    contract = await load(session, contract_id, actor)
    return await preview.preview(
        session, contract, Month.parse(month), request.app.state.settings, clock.today()
    )
