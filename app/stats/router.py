"""`/v1/stats/monthly`: aggregates that identify no customer (Art. 32.1(3)(4), R-PTN-3)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from app.auth.dependencies import require
from app.auth.roles import Role
from app.auth.service import Principal
from app.core.database import SessionDep
from app.core.http import ClockDep
from app.core.settings import Settings
from app.core.validation import BusinessMonth
from app.pricing.calendar import Month
from app.stats import service
from app.stats.schemas import MonthlyStats

router = APIRouter(prefix="/v1/stats", tags=["stats"])
Reader = Annotated[Principal, Depends(require(Role.OPERATOR, Role.PARTNER))]


@router.get("/monthly", operation_id="stats-monthly", summary="Anonymous monthly statistics")
async def monthly_stats(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    actor: Reader,
    month: Annotated[BusinessMonth, Query(description="The month, `YYYY-MM`.")],
) -> MonthlyStats:
    """Contracts active, new and ended by plan and option, licence IDs, invoiced amounts by
    item and tax category, payments received, invoices overdue. No customer is named;
    a figure drawn from fewer than `SCMS_STATS_MIN_CUSTOMERS` customers (default 3) is
    `null` and `suppressed`."""
    settings: Settings = request.app.state.settings
    return await service.monthly(
        session,
        Month.parse(month),
        today=clock.today(),
        min_customers=settings.stats_min_customers,
    )
