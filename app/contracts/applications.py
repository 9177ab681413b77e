"""Applications and the carrier's decision on them (R-LC-1 … R-LC-4, Art. 7–8)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import snapshot
from app.auth.service import Principal
from app.contracts import events
from app.contracts.guards import load, not_before
from app.contracts.models import Contract
from app.contracts.repository import ContractRepository
from app.contracts.schemas import AcceptRequest, ApplicationCreate, RejectRequest, WithdrawRequest
from app.contracts.states import Move, Status, ensure_allowed
from app.core.clock import Clock
from app.core.errors import Conflict, Unprocessable
from app.core.ids import new_id
from app.customers import service as customers


async def apply(
    session: AsyncSession,
    data: ApplicationCreate,
    actor: Principal,
    clock: Clock,
    *,
    predecessor_id: str | None = None,
) -> Contract:
    """File an application (R-LC-1): status ``applied``, in the acceptance queue.

    ``predecessor_id``: the contract a plan change ends (R-LC-8), linked from the start so
    that the ``contract.applied`` event already shows it."""
    if not await customers.customer_exists(session, data.customer_id):
        raise Unprocessable(
            f"No customer {data.customer_id}.",
            code="customer_not_found",
            rule="R-LC-1",
            field="customer_id",
        )
    today = clock.today()
    if data.received_on > today:
        raise Unprocessable(
            f"received_on {data.received_on} is in the future: it is the day the carrier "
            "received the form.",
            code="received_in_future",
            rule="R-LC-1",
            field="received_on",
            latest_allowed=today,
        )
    repo = ContractRepository(session)
    await repo.lock_acceptance_queue()
    now = clock.now()
    contract = Contract(
        id=new_id("ctr"),
        customer_id=data.customer_id,
        status=Status.APPLIED.value,
        plan=data.plan.value,
        license_ids=data.license_ids,
        soc=data.options.soc,
        reserved_ip=data.options.reserved_ip,
        ad_integration=data.options.ad_integration,
        onboarding_kind=data.onboarding_kind.value,
        received_on=data.received_on,
        arrival_seq=await repo.next_arrival_seq(),
        planned_installation_on=data.planned_installation_on,
        administrators=[a.model_dump() for a in data.administrators],
        predecessor_id=predecessor_id,
        version=0,
        created_at=now,
        updated_at=now,
    )
    await repo.add(contract)
    await events.changed(
        session,
        contract,
        event="contract.applied",
        business_date=data.received_on,
        actor=actor,
        clock=clock,
        before=None,
        payload={"plan": contract.plan, "license_ids": contract.license_ids},
    )
    return contract


async def accept(
    session: AsyncSession, contract_id: str, data: AcceptRequest, actor: Principal, clock: Clock
) -> Contract:
    """Accept in receipt order (R-LC-2); the acceptance date is the receipt date (R-LC-3)."""
    repo = ContractRepository(session)
    await repo.lock_acceptance_queue()
    contract = await load(session, contract_id, actor, for_update=True)
    ensure_allowed(contract.status, Move.ACCEPT)
    earlier = await repo.earliest_pending_before(contract)
    if earlier is not None and data.out_of_order_reason is None:
        raise Conflict(
            f"Application {earlier.id}, received on {earlier.received_on}, is still waiting: "
            "applications are accepted in the order received. Accept it first, or give an "
            "out_of_order_reason (Art. 8.1 proviso).",
            code="earlier_application_pending",
            rule="R-LC-2",
            earliest_pending_id=earlier.id,
            earliest_pending_received_on=earlier.received_on,
        )
    before = snapshot(contract)
    contract.status = Status.ACCEPTED.value
    contract.accepted_on = contract.received_on
    contract.out_of_order_reason = data.out_of_order_reason if earlier is not None else None
    await events.changed(
        session,
        contract,
        event="contract.accepted",
        business_date=contract.accepted_on,
        actor=actor,
        clock=clock,
        before=before,
        payload={"decided_on": clock.today(), "out_of_order_reason": contract.out_of_order_reason},
    )
    return contract


async def reject(
    session: AsyncSession, contract_id: str, data: RejectRequest, actor: Principal, clock: Clock
) -> Contract:
    """Refuse an application with an Art. 8.3 reason and the notice sent (R-LC-4)."""
    contract = await load(session, contract_id, actor, for_update=True)
    ensure_allowed(contract.status, Move.REJECT)
    rejected_on = data.rejected_on or clock.today()
    not_before(rejected_on, contract.received_on, "rejected_on", "received_on", "R-LC-4")
    before = snapshot(contract)
    contract.status = Status.REJECTED.value
    contract.rejected_on = rejected_on
    contract.rejection_reason = data.reason.value
    contract.rejection_notice = data.notice
    await events.changed(
        session,
        contract,
        event="contract.rejected",
        business_date=rejected_on,
        actor=actor,
        clock=clock,
        before=before,
        payload={"reason": data.reason.value},
    )
    return contract


async def withdraw(
    session: AsyncSession, contract_id: str, data: WithdrawRequest, actor: Principal, clock: Clock
) -> Contract:
    """The applicant withdraws before a decision (after acceptance it is a cancellation)."""
    contract = await load(session, contract_id, actor, for_update=True)
    ensure_allowed(contract.status, Move.WITHDRAW)
    withdrawn_on = data.withdrawn_on or clock.today()
    not_before(withdrawn_on, contract.received_on, "withdrawn_on", "received_on", "R-LC-10")
    before = snapshot(contract)
    contract.status = Status.WITHDRAWN.value
    contract.withdrawn_on = withdrawn_on
    await events.changed(
        session,
        contract,
        event="contract.withdrawn",
        business_date=withdrawn_on,
        actor=actor,
        clock=clock,
        before=before,
        payload={"reason": data.reason},
    )
    return contract
