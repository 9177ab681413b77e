"""Recording and reading SOC status reports (R-PTN-1, Tariff ※1 ※2).

The partner reports a period of a contract that has ``soc`` in effect over all of it,
within the contract's service. A report is a record: a second one for the same contract
and period is a conflict naming the first; a correction names the report it supersedes,
which is then no longer the period's current report (each is superseded at most once).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.audit.service import snapshot
from app.auth.roles import Role
from app.auth.service import Principal
from app.contracts.guards import ensure_not_future, load
from app.contracts.models import Contract, ContractOption
from app.core.clock import Clock
from app.core.errors import Conflict, NotFound, Unprocessable
from app.core.ids import new_id
from app.events.catalogue import EventType
from app.events.outbox import record_event
from app.soc_reports.models import SocReport
from app.soc_reports.schemas import SocReportCreate, SocReportRead

RULE = "R-PTN-1"


def _outside_service(contract: Contract, data: SocReportCreate) -> bool:
    start, end = contract.service_start_on, contract.termination_effective_on
    if start is None or data.period_start < start:
        return True
    return end is not None and data.period_end > end


def _covered(periods: Sequence[tuple[date, date | None]], first: date, last: date) -> bool:
    """Whether the option periods cover every day from ``first`` to ``last``."""
    day = first
    for starts_on, ends_on in sorted(periods):
        if starts_on > day:
            return False
        if ends_on is None or ends_on >= last:
            return True
        day = max(day, ends_on + timedelta(days=1))
    return False


async def _soc_periods(session: AsyncSession, contract_id: str) -> list[tuple[date, date | None]]:
    rows = await session.execute(
        select(ContractOption.starts_on, ContractOption.ends_on).where(
            ContractOption.contract_id == contract_id, ContractOption.option == "soc"
        )
    )
    return [(s, e) for s, e in rows]


async def _check_period(
    session: AsyncSession, contract: Contract, data: SocReportCreate, today: date
) -> None:
    ensure_not_future(data.period_end, today, "period_end", RULE)
    if _outside_service(contract, data):
        raise Unprocessable(
            "The period must lie within the contract's service: from its service start "
            "to its termination.",
            code="period_outside_service",
            rule=RULE,
            service_start_on=contract.service_start_on,
            service_end_on=contract.termination_effective_on,
        )
    if not _covered(await _soc_periods(session, contract.id), data.period_start, data.period_end):
        raise Unprocessable(
            "The contract does not have the SOC option (soc) in effect over the whole period.",
            code="soc_not_in_effect",
            rule=RULE,
            period_start=data.period_start,
            period_end=data.period_end,
        )


async def _current_for_period(
    session: AsyncSession, contract_id: str, data: SocReportCreate
) -> SocReport | None:
    """The period's report that no correction has superseded yet."""
    superseded = select(SocReport.supersedes_id).where(SocReport.supersedes_id.is_not(None))
    stmt = select(SocReport).where(
        SocReport.contract_id == contract_id,
        SocReport.period_start == data.period_start,
        SocReport.period_end == data.period_end,
        SocReport.id.not_in(superseded),
    )
    return (await session.scalars(stmt)).first()


async def create(
    session: AsyncSession, data: SocReportCreate, actor: Principal, clock: Clock
) -> SocReport:
    # The contract's row lock makes two reports of one period take turns.
    contract = await load(session, data.contract_id, actor, for_update=True)
    await _check_period(session, contract, data, clock.today())
    current = await _current_for_period(session, contract.id, data)
    if current is not None and data.supersedes_id != current.id:
        raise Conflict(
            f"Report {current.id} is this period's report; a correction names it in supersedes_id.",
            code="soc_report_exists",
            rule=RULE,
            existing_id=current.id,
        )
    if current is None and data.supersedes_id is not None:
        raise Unprocessable(
            f"{data.supersedes_id} is not the current report of this contract and period.",
            code="supersedes_unknown",
            rule=RULE,
            field="supersedes_id",
        )
    now = clock.now()
    report = SocReport(
        id=new_id("soc"),
        contract_id=contract.id,
        customer_id=contract.customer_id,
        period_start=data.period_start,
        period_end=data.period_end,
        status=data.status,
        incident_count=data.incident_count,
        summary=data.summary,
        supersedes_id=data.supersedes_id,
        reported_by=actor.key_id,
        created_at=now,
    )
    session.add(report)
    await session.flush()
    await audit.record(
        session,
        clock=clock,
        actor_key_id=actor.key_id,
        action="soc_reports.create",
        resource_type="soc_report",
        resource_id=report.id,
        before=None,
        after=snapshot(report),
        request_id=actor.request_id,
        customer_id=contract.customer_id,
    )
    # Issue 13 §1: the outbox tells the customer's alerting; a critical report twice over.
    read = SocReportRead.model_validate(report)  # as its GET reads now: superseded by none
    types = [EventType.SOC_REPORT_CREATED]
    if report.status == "critical":
        types.append(EventType.SOC_REPORT_CRITICAL)
    for event_type in types:
        await record_event(
            session,
            clock=clock,
            type=event_type,
            resource_type="soc_report",
            resource_id=report.id,
            data=read,
            customer_id=contract.customer_id,
            request_id=actor.request_id,
        )
    return report


async def get(session: AsyncSession, report_id: str, actor: Principal) -> SocReport:
    report = await session.get(SocReport, report_id)
    if report is None or not actor.sees_customer(report.customer_id):
        raise NotFound(f"No SOC report {report_id}.", code="soc_report_not_found")
    return report


async def superseded_by(session: AsyncSession, ids: Sequence[str]) -> dict[str, str]:
    """For each of ``ids`` superseded, the id of the report that superseded it."""
    if not ids:
        return {}
    rows = await session.execute(
        select(SocReport.supersedes_id, SocReport.id).where(SocReport.supersedes_id.in_(ids))
    )
    return {old: new for old, new in rows if old is not None}


def only_customer(actor: Principal) -> str | None:
    return actor.customer_id if actor.role is Role.PORTAL else None
