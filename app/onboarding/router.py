"""Onboarding routes: the operator runs it; the partner may record milestones (R-PTN-1)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, status

from app.auth.dependencies import require
from app.auth.roles import Role
from app.auth.service import Principal
from app.contracts import read_model
from app.contracts.schemas import ContractRead, InspectionRead, OnboardingRead
from app.core.database import SessionDep
from app.core.http import ClockDep
from app.core.openapi import documents
from app.onboarding import service as onboarding
from app.onboarding.schemas import (
    InspectionCreate,
    MilestoneDone,
    OnboardingComplete,
    OnboardingStart,
)

router = APIRouter(prefix="/v1/contracts/{contract_id}/onboarding", tags=["onboarding"])
ContractID = Annotated[str, Path(max_length=40)]
Operator = Annotated[Principal, Depends(require(Role.OPERATOR))]
MilestoneRecorder = Annotated[Principal, Depends(require(Role.OPERATOR, Role.PARTNER))]


@router.post(
    "/start",
    operation_id="contracts-onboarding-start",
    summary="Start onboarding",
    openapi_extra=documents(409),
)
async def start(
    contract_id: ContractID,
    data: OnboardingStart,
    session: SessionDep,
    clock: ClockDep,
    actor: Operator,
) -> ContractRead:
    """Records when the onboarding service starts for an accepted contract (R-LC-5)."""
    contract = await onboarding.start(session, contract_id, data, actor, clock)
    return await read_model.build(session, contract, clock.today())


@router.post(
    "/milestones/{key}",
    operation_id="contracts-onboarding-milestone",
    summary="Record an onboarding milestone",
    openapi_extra=documents(409),
)
async def record_milestone(
    contract_id: ContractID,
    key: Annotated[str, Path(max_length=40)],
    data: MilestoneDone,
    session: SessionDep,
    clock: ClockDep,
    actor: MilestoneRecorder,
) -> OnboardingRead:
    """Returns the onboarding block only: a partner sees no more of the contract."""
    contract = await onboarding.record_milestone(session, contract_id, key, data, actor, clock)
    return await read_model.onboarding_view(session, contract, clock.today())


@router.post(
    "/inspections",
    status_code=status.HTTP_201_CREATED,
    operation_id="contracts-onboarding-inspect",
    summary="Record an onboarding inspection",
    openapi_extra=documents(409),
)
async def record_inspection(
    contract_id: ContractID,
    data: InspectionCreate,
    session: SessionDep,
    clock: ClockDep,
    actor: Operator,
) -> InspectionRead:
    """The inspection (検収): `accepted` with the certificate date, or `nonconforming`
    with the defects found, to be inspected again (R-LC-5)."""
    inspection = await onboarding.record_inspection(session, contract_id, data, actor, clock)
    return InspectionRead.model_validate(inspection)


@router.post(
    "/complete",
    operation_id="contracts-onboarding-complete",
    summary="Complete onboarding and start the service",
    openapi_extra=documents(409),
)
async def complete(
    contract_id: ContractID,
    data: OnboardingComplete,
    session: SessionDep,
    clock: ClockDep,
    actor: Operator,
) -> ContractRead:
    """Needs every milestone done and an accepted inspection; `completed_on` is the
    service start date and the contract becomes `active` (R-LC-5)."""
    contract = await onboarding.complete(session, contract_id, data, actor, clock)
    return await read_model.build(session, contract, clock.today())
