"""Bill runs (API.md "Billing"): start one for a month, follow its counters."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response, status

from app.auth.dependencies import require
from app.auth.roles import Role
from app.auth.service import Principal
from app.core.database import SessionDep
from app.core.http import ClockDep
from app.core.openapi import documents
from app.core.pagination import Page, PageParamsDep
from app.invoices import billing_runs
from app.invoices.billing_runs_repository import BillingRunRepository
from app.invoices.billing_schemas import BillingRunCreate, BillingRunRead
from app.pricing.calendar import Month

router = APIRouter(prefix="/v1/billing-runs", tags=["billing"])
RunID = Annotated[str, Path(max_length=40, description="The billing run's id.")]
Operator = Annotated[Principal, Depends(require(Role.OPERATOR))]


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    operation_id="billing-runs-create",
    summary="Start a bill run",
    openapi_extra=documents(location=True),
    responses={
        200: {
            "description": "The month already has a run queued or running: that run "
            "(no second run is started).",
            "model": BillingRunRead,
        },
        422: {
            "description": "The month has not ended yet (`month_not_ended`, R-INV-1), or "
            "`issued_on` lies outside the scheduled issue day to today "
            "(`issued_on_out_of_range`, R-INV-1)."
        },
    },
)
async def create_billing_run(
    data: BillingRunCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    clock: ClockDep,
    actor: Operator,
) -> BillingRunRead:
    """Start a bill run for a month that has ended (R-INV-1); a worker carries it out.

    The run is `queued` until a worker (`scms worker`, or the one `scms serve` embeds)
    takes it up; a run whose worker dies is resumed by another and ends `finished`.
    A month that already has a run queued or running (the same `dry_run`) answers that
    run with 200 instead of starting another. One monthly invoice per contract and month,
    however often a month is run: a run bills only contracts not yet invoiced for the
    month. Follow it with `GET /v1/billing-runs/{id}`. The invoices are dated `issued_on`:
    by default the month's scheduled issue day when the run is on time, else today (`late`).
    """
    run, created = await billing_runs.request_run(
        session,
        Month.parse(data.month),
        dry_run=data.dry_run,
        created_by=actor.key_id,
        clock=clock,
        settings=request.app.state.settings,
        issued_on=data.issued_on,
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    response.headers["Location"] = f"/v1/billing-runs/{run.id}"
    return BillingRunRead.of(run)


@router.get("", operation_id="billing-runs-list", summary="List bill runs")
async def list_billing_runs(
    session: SessionDep, page: PageParamsDep, _: Operator
) -> Page[BillingRunRead]:
    """Every run, newest first."""
    runs, cursor = await BillingRunRepository(session).page(page)
    return Page(items=[BillingRunRead.of(r) for r in runs], next_cursor=cursor)


@router.get("/{run_id}", operation_id="billing-runs-get", summary="Read a bill run")
async def get_billing_run(run_id: RunID, session: SessionDep, _: Operator) -> BillingRunRead:
    """Its status and counters, as the run progresses."""
    return BillingRunRead.of(await billing_runs.get_run(session, run_id))
