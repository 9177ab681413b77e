"""Suspensions (R-LC-9, Art. 18): periods with a reason; billing goes on.

Art. 18 lets the carrier suspend "for the period it sets", which it may not know at the
start (a harm to third parties, an emergency): a suspension may be open-ended, and is
ended later by giving its last day, once (``contract.resumed``).
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import snapshot
from app.auth.service import Principal
from app.changes.schemas import SuspensionCreate, SuspensionEnd, SuspensionRead
from app.contracts import events
from app.contracts.guards import ensure_in_service, load
from app.contracts.models import Suspension
from app.contracts.states import Move, ensure_allowed_now
from app.core.clock import Clock
from app.core.errors import Conflict, NotFound, Unprocessable
from app.core.ids import new_id
from app.core.pagination import PageParams, cursor_text, paginate


def _overlaps(a_start: date, a_end: date | None, b_start: date, b_end: date | None) -> bool:
    return (a_end is None or b_start <= a_end) and (b_end is None or a_start <= b_end)


def _refuse_end_before_start(ends_on: date, starts_on: date) -> None:
    if ends_on < starts_on:
        raise Unprocessable(
            f"ends_on {ends_on} is before the suspension's starts_on {starts_on}.",
            code="date_out_of_order",
            rule="R-LC-9",
            field="ends_on",
            earliest_allowed=starts_on,
        )


async def suspend(
    session: AsyncSession,
    contract_id: str,
    data: SuspensionCreate,
    actor: Principal,
    clock: Clock,
) -> SuspensionRead:
    contract = await load(session, contract_id, actor, for_update=True)
    ensure_allowed_now(contract, Move.SUSPEND, clock.today())
    if data.ends_on is not None:
        _refuse_end_before_start(data.ends_on, data.starts_on)
    ensure_in_service(contract, data.starts_on, "starts_on")
    existing = await session.scalars(
        select(Suspension).where(Suspension.contract_id == contract.id)
    )
    for other in existing:
        if _overlaps(data.starts_on, data.ends_on, other.starts_on, other.ends_on):
            raise Conflict(
                f"The contract is already suspended from {other.starts_on}"
                f"{' to ' + str(other.ends_on) if other.ends_on else ''}.",
                code="suspension_overlaps",
                rule="R-LC-9",
                suspension_id=other.id,
            )
    before = snapshot(contract)
    row = Suspension(
        id=new_id("sus"),
        contract_id=contract.id,
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        reason=data.reason,
        recorded_by=actor.key_id,
        recorded_at=clock.now(),
    )
    session.add(row)
    await session.flush()
    await events.changed(
        session,
        contract,
        event="contract.suspended",
        business_date=data.starts_on,
        actor=actor,
        clock=clock,
        before=before,
        payload={"suspension_id": row.id, "ends_on": data.ends_on, "reason": data.reason},
    )
    return SuspensionRead.model_validate(row)


async def end_suspension(
    session: AsyncSession,
    contract_id: str,
    suspension_id: str,
    data: SuspensionEnd,
    actor: Principal,
    clock: Clock,
) -> SuspensionRead:
    """Give an open-ended suspension its last day: the service resumes the day after."""
    contract = await load(session, contract_id, actor, for_update=True)
    row = await session.get(Suspension, suspension_id)
    if row is None or row.contract_id != contract.id:
        raise NotFound(
            f"No suspension {suspension_id} on contract {contract.id}.",
            code="suspension_not_found",
        )
    ensure_allowed_now(contract, Move.SUSPEND, clock.today())
    if row.ends_on is not None:
        raise Conflict(
            f"The suspension already ends on {row.ends_on}.",
            code="suspension_already_ended",
            rule="R-LC-9",
            ends_on=row.ends_on,
        )
    _refuse_end_before_start(data.ends_on, row.starts_on)
    ensure_in_service(contract, data.ends_on, "ends_on")
    before = snapshot(contract)
    row.ends_on = data.ends_on
    await session.flush()
    resumed_on = data.ends_on + timedelta(days=1)
    await events.changed(
        session,
        contract,
        event="contract.resumed",
        business_date=resumed_on,
        actor=actor,
        clock=clock,
        before=before,
        payload={"suspension_id": row.id, "ends_on": data.ends_on, "resumed_on": resumed_on},
    )
    return SuspensionRead.model_validate(row)


async def list_suspensions(
    session: AsyncSession, contract_id: str, params: PageParams
) -> tuple[list[SuspensionRead], str | None]:
    """A page of the contract's suspensions, the latest start first."""
    rows: list[Suspension]
    rows, cursor = await paginate(
        session,
        select(Suspension).where(Suspension.contract_id == contract_id),
        keys=[Suspension.starts_on, Suspension.id],
        key_of=lambda s: [s.starts_on, s.id],
        params=params,
        parse=[date.fromisoformat, cursor_text],
    )
    return [SuspensionRead.model_validate(r) for r in rows], cursor
