"""Plan change (R-LC-8, Art. 12): terminate and contract anew, in one transaction.

The old contract ends with reason ``plan_change`` (its notice rule and early-termination
charge), and a new application linked to it by ``predecessor_id`` joins the acceptance
queue. Both halves run in the request's transaction: if the second fails, neither stays.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.service import Principal
from app.contracts import applications, events
from app.contracts.billing import timeline_for as timeline
from app.contracts.guards import load
from app.contracts.models import Contract
from app.contracts.schemas import Administrator, ApplicationCreate, Options
from app.contracts.states import Move, ensure_allowed_now
from app.core.clock import Clock
from app.core.errors import Unprocessable
from app.core.settings import Settings
from app.endings import terminations
from app.endings.schemas import PlanChangeCreate, TerminationCreate
from app.events.catalogue import EventType
from app.pricing.catalogue import OnboardingKind, Plan
from app.pricing.early_termination import TerminationReason


async def change_plan(
    session: AsyncSession,
    contract_id: str,
    data: PlanChangeCreate,
    actor: Principal,
    clock: Clock,
    settings: Settings,
) -> tuple[Contract, Contract]:
    old = await load(session, contract_id, actor, for_update=True)
    ensure_allowed_now(old, Move.CHANGE_PLAN, clock.today())
    if data.plan.value == old.plan:
        raise Unprocessable(
            f"The contract is already on {old.plan}.",
            code="same_plan",
            rule="R-LC-8",
            field="plan",
        )
    history = await timeline(session, old)
    current_options = history.options_on(data.effective_on)
    terminated = await terminations.terminate(
        session,
        old.id,
        TerminationCreate(
            reason=TerminationReason.PLAN_CHANGE,
            effective_on=data.effective_on,
            notice_on=data.notice_on,
        ),
        actor,
        clock,
        settings,
    )
    application = ApplicationCreate(
        customer_id=old.customer_id,
        plan=Plan(data.plan),
        license_ids=data.license_ids or history.license_ids_on(data.effective_on),
        options=data.options
        or Options(
            soc="soc" in current_options,
            reserved_ip="reserved_ip" in current_options,
            ad_integration=False,
        ),
        onboarding_kind=data.onboarding_kind or OnboardingKind(old.onboarding_kind),
        received_on=data.received_on,
        planned_installation_on=data.planned_installation_on
        or data.effective_on + timedelta(days=1),
        administrators=[Administrator(**a) for a in old.administrators],
    )
    new = await applications.apply(session, application, actor, clock, predecessor_id=terminated.id)
    terminated.successor_id = new.id
    await session.flush()
    # Issue 12 §2: the old contract, now pointing at its successor, in the same transaction.
    await events.publish(
        session,
        terminated,
        type=EventType.CONTRACT_PLAN_CHANGED,
        clock=clock,
        request_id=actor.request_id,
    )
    return terminated, new
