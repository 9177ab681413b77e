"""Routes for a contract's endings: the termination quote, terminations, the
cancellation and the plan change (API.md "Contracts")."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from app.auth.dependencies import require
from app.auth.roles import Role
from app.auth.service import Principal
from app.contracts import read_model
from app.contracts.schemas import ContractRead
from app.core.database import SessionDep
from app.core.errors import Forbidden, Unprocessable
from app.core.http import ClockDep
from app.core.openapi import documents
from app.core.validation import BusinessDate
from app.endings import cancellations, plan_changes, terminations
from app.endings.schemas import (
    CancellationCreate,
    CancellationRead,
    PlanChangeCreate,
    PlanChangeRead,
    TerminationCreate,
    TerminationQuote,
)
from app.invoices import receivables
from app.invoices.schemas import CreditNoteSummary
from app.pricing.early_termination import Party, TerminationReason

router = APIRouter(prefix="/v1/contracts/{contract_id}", tags=["contract changes"])
ContractID = Annotated[str, Path(max_length=40)]
Operator = Annotated[Principal, Depends(require(Role.OPERATOR))]
Reader = Annotated[Principal, Depends(require(Role.OPERATOR, Role.CRM, Role.PORTAL))]
# A portal key may file the customer's own termination or non-renewal notice (API.md).
Terminator = Annotated[Principal, Depends(require(Role.OPERATOR, Role.PORTAL))]


@router.get(
    "/termination-quote",
    operation_id="contracts-termination-quote",
    summary="Quote a termination",
    openapi_extra=documents(409),
)
async def termination_quote(
    contract_id: ContractID,
    session: SessionDep,
    clock: ClockDep,
    actor: Reader,
    effective_on: Annotated[BusinessDate, Query()],
    reason: Annotated[TerminationReason, Query()] = TerminationReason.CONTRACTOR_REQUEST,
    notice_on: Annotated[
        BusinessDate | None, Query(description="Default: today; a future date asks what if.")
    ] = None,
) -> TerminationQuote:
    """Whether a termination is allowed and what it would cost; changes nothing."""
    data = TerminationCreate(
        reason=reason,
        effective_on=effective_on,
        notice_on=notice_on or clock.today(),
        breach_item=1 if reason is TerminationReason.BREACH else None,
    )
    return await terminations.quote(session, contract_id, data, actor, clock)


@router.post(
    "/terminations",
    operation_id="contracts-terminate",
    summary="Give notice of termination",
    openapi_extra=documents(409),
)
async def terminate(
    contract_id: ContractID,
    data: TerminationCreate,
    session: SessionDep,
    clock: ClockDep,
    actor: Terminator,
    request: Request,
) -> ContractRead:
    """Records a termination notice and when it takes effect. A portal key may file only
    the contractor's own notices (403 otherwise); a plan change goes through
    `POST …/plan-change` (R-LC-8)."""
    if actor.role is Role.PORTAL and data.reason.rule.who is not Party.CONTRACTOR:
        raise Forbidden(
            f"A portal key may file the contractor's own notices, not {data.reason.value}.",
            allowed_reasons=sorted(
                r.value for r in TerminationReason if r.rule.who is Party.CONTRACTOR
            ),
        )
    if data.reason is TerminationReason.PLAN_CHANGE:
        # R-LC-8: the old contract ends and the new application is filed in one request.
        raise Unprocessable(
            f"A plan change files the new application too: POST "
            f"/v1/contracts/{contract_id}/plan-change.",
            code="plan_change_needs_application",
            rule="R-LC-8",
            field="reason",
        )
    contract = await terminations.terminate(
        session, contract_id, data, actor, clock, request.app.state.settings
    )
    return await read_model.build(session, contract, clock.today())


@router.post(
    "/cancellation",
    operation_id="contracts-cancel",
    summary="Cancel before the service starts",
    openapi_extra=documents(409),
)
async def cancel(
    contract_id: ContractID,
    data: CancellationCreate,
    session: SessionDep,
    clock: ClockDep,
    actor: Operator,
    request: Request,
) -> CancellationRead:
    """Cancel before the service starts; answers with the cancellation invoice (R-CHG-6)."""
    result = await cancellations.cancel(
        session, contract_id, data, actor, clock, request.app.state.settings
    )
    today = clock.today()
    invoice = None
    if result.invoice is not None:
        invoice = receivables.to_read(await receivables.view_of(session, result.invoice), today)
    return CancellationRead(
        invoice=invoice,
        contract=await read_model.build(session, result.contract, today),
        credit_notes=[
            CreditNoteSummary(id=n.id, number=n.number, issued_on=n.issued_on, total=n.total)
            for n in result.credit_notes
        ],
    )


@router.post(
    "/plan-change",
    operation_id="contracts-plan-change",
    summary="Change the plan",
    openapi_extra=documents(409),
)
async def change_plan(
    contract_id: ContractID,
    data: PlanChangeCreate,
    session: SessionDep,
    clock: ClockDep,
    actor: Operator,
    request: Request,
) -> PlanChangeRead:
    """Ends the contract and files the application for the new plan in one request
    (R-LC-8)."""
    old, new = await plan_changes.change_plan(
        session, contract_id, data, actor, clock, request.app.state.settings
    )
    today = clock.today()
    return PlanChangeRead(
        terminated=await read_model.build(session, old, today),
        application=await read_model.build(session, new, today),
    )
