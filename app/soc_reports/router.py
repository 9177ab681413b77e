"""`/v1/soc-reports`: the SOC partner reports, staff and the customer read (R-PTN-1)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response, status
from sqlalchemy import select

from app.auth.dependencies import require
from app.auth.roles import Role
from app.auth.service import Principal
from app.core.database import SessionDep
from app.core.http import ClockDep
from app.core.openapi import documents
from app.core.pagination import Page, PageParamsDep, paginate
from app.core.validation import BusinessDate
from app.soc_reports import service
from app.soc_reports.models import SocReport
from app.soc_reports.schemas import SocReportCreate, SocReportRead, Status

router = APIRouter(prefix="/v1/soc-reports", tags=["soc-reports"])
Reporter = Annotated[Principal, Depends(require(Role.PARTNER))]
Reader = Annotated[Principal, Depends(require(Role.OPERATOR, Role.CRM, Role.PARTNER, Role.PORTAL))]


def _read(report: SocReport, superseded: dict[str, str]) -> SocReportRead:
    read = SocReportRead.model_validate(report)
    read.superseded_by_id = superseded.get(report.id)
    return read


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    operation_id="soc-reports-create",
    summary="Report the SOC status of a contract's period",
    openapi_extra=documents(404, 409, location=True),
)
async def create_report(
    data: SocReportCreate,
    session: SessionDep,
    clock: ClockDep,
    actor: Reporter,
    response: Response,
) -> SocReportRead:
    """The partner reports a period of a contract with `soc` in effect over all of it
    (else 422, rule `R-PTN-1`); a contract it does not work on is 404. A second report of
    the same period is 409 naming the first (`existing_id`); a correction names it in
    `supersedes_id`."""
    report = await service.create(session, data, actor, clock)
    response.headers["Location"] = f"/v1/soc-reports/{report.id}"
    return _read(report, {})


@router.get("", operation_id="soc-reports-list", summary="List SOC reports")
async def list_reports(
    session: SessionDep,
    page: PageParamsDep,
    actor: Reader,
    contract_id: Annotated[str | None, Query(max_length=40)] = None,
    status: Annotated[Status | None, Query()] = None,
    since: Annotated[
        BusinessDate | None, Query(description="Reports of periods ending on or after this day.")
    ] = None,
) -> Page[SocReportRead]:
    """Newest first. A portal key sees its own customer's reports only."""
    stmt = select(SocReport)
    customer_id = service.only_customer(actor)
    if customer_id is not None:
        stmt = stmt.where(SocReport.customer_id == customer_id)
    if contract_id is not None:
        stmt = stmt.where(SocReport.contract_id == contract_id)
    if status is not None:
        stmt = stmt.where(SocReport.status == status)
    if since is not None:
        stmt = stmt.where(SocReport.period_end >= since)
    items: list[SocReport]
    items, cursor = await paginate(
        session, stmt, keys=[SocReport.id], key_of=lambda r: [r.id], params=page
    )
    superseded = await service.superseded_by(session, [r.id for r in items])
    return Page(items=[_read(r, superseded) for r in items], next_cursor=cursor)


@router.get("/{report_id}", operation_id="soc-reports-get", summary="Get a SOC report")
async def get_report(
    report_id: Annotated[str, Path(max_length=40)], session: SessionDep, actor: Reader
) -> SocReportRead:
    """Another customer's report through a portal key: 404."""
    report = await service.get(session, report_id, actor)
    return _read(report, await service.superseded_by(session, [report.id]))
