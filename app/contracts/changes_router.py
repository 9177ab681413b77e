"""Routes for a running contract's changes and endings (API.md "Contracts")."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, status

from app.auth.dependencies import require
from app.auth.roles import Role
from app.auth.service import Principal
from app.contracts import (
    cancellations,
    licences,
    option_changes,
    plan_changes,
    read_model,
    suspensions,
    terminations,
)
from app.contracts.changes_schemas import (
    CancellationCreate,
    CancellationRead,
    LicenceChangeCreate,
    LicenceChangeRead,
    OptionAdd,
    OptionRemoval,
    PlanChangeCreate,
    PlanChangeRead,
    SuspensionCreate,
    SuspensionRead,
    TerminationCreate,
    TerminationQuote,
)
from app.contracts.guards import load
from app.contracts.schemas import ContractRead
from app.core.database import SessionDep
from app.core.errors import Forbidden, Unprocessable
from app.core.http import ClockDep
from app.core.openapi import documents
from app.core.pagination import Page, PageParamsDep
from app.core.validation import BusinessDate
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


@router.post(
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


@router.get(
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
