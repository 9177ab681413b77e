"""The onboarding service, from its start to the service start (R-LC-5, Art. 10, 20)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import snapshot
from app.auth.roles import Role
from app.auth.service import Principal
from app.contracts import events
from app.contracts.guards import load, not_before
from app.contracts.models import (
    Contract,
    ContractOption,
    OnboardingInspection,
    OnboardingMilestone,
)
from app.contracts.repository import ContractRepository
from app.contracts.states import MILESTONES, Move, Status, ensure_allowed
from app.core.clock import Clock
from app.core.errors import Conflict, Forbidden, Unprocessable
from app.core.ids import new_id
from app.invoices.months import record_charges
from app.onboarding.schemas import (
    InspectionCreate,
    MilestoneDone,
    OnboardingComplete,
    OnboardingStart,
)
from app.price_books.service import load_price_books
from app.pricing.calendar import Month, first_term_end
from app.pricing.catalogue import ChargeKind
from app.pricing.one_time import one_time_lines


async def start(
    session: AsyncSession, contract_id: str, data: OnboardingStart, actor: Principal, clock: Clock
) -> Contract:
    """The onboarding service starts: the first term is counted from this day (R-TERM-1)."""
    contract = await load(session, contract_id, actor, for_update=True)
    ensure_allowed(contract.status, Move.START_ONBOARDING)
    assert contract.accepted_on is not None
    not_before(data.started_on, contract.accepted_on, "started_on", "accepted_on", "R-LC-5")
    before = snapshot(contract)
    contract.status = Status.ONBOARDING.value
    contract.onboarding_started_on = data.started_on
    contract.onboarding_performed_by = data.performed_by
    await events.changed(
        session,
        contract,
        event="contract.onboarding_started",
        business_date=data.started_on,
        actor=actor,
        clock=clock,
        before=before,
    )
    return contract


async def record_milestone(
    session: AsyncSession,
    contract_id: str,
    key: str,
    data: MilestoneDone,
    actor: Principal,
    clock: Clock,
) -> Contract:
    """A milestone of the contract's onboarding kind is done (the partner may record it).

    Recording the same milestone with the same date again changes nothing, so a partner
    system can retry safely; a different date is a conflict.
    """
    contract = await load(session, contract_id, actor, for_update=True)
    if actor.role is Role.PARTNER and contract.onboarding_performed_by != "partner":
        raise Forbidden(
            "The partner records milestones of the onboarding it performs (Art. 20.3); "
            "the carrier performs this one.",
            code="onboarding_not_by_partner",
            rule="R-PTN-1",
            performed_by=contract.onboarding_performed_by,
        )
    ensure_allowed(contract.status, Move.RECORD_MILESTONE)
    allowed = MILESTONES[contract.onboarding_kind]
    if key not in allowed:
        raise Unprocessable(
            f"{key!r} is not a milestone of {contract.onboarding_kind} onboarding.",
            code="unknown_milestone",
            rule="R-LC-5",
            field="key",
            allowed=list(allowed),
        )
    assert contract.onboarding_started_on is not None
    not_before(
        data.done_on, contract.onboarding_started_on, "done_on", "the onboarding start", "R-LC-5"
    )
    repo = ContractRepository(session)
    existing = {m.key: m for m in await repo.milestones(contract.id)}
    if key in existing:
        if existing[key].done_on == data.done_on:
            return contract
        raise Conflict(
            f"Milestone {key} was already recorded as done on {existing[key].done_on}.",
            code="milestone_already_done",
            rule="R-LC-5",
            done_on=existing[key].done_on,
        )
    before = snapshot(contract)
    await repo.add_row(
        OnboardingMilestone(
            id=new_id("mst"),
            contract_id=contract.id,
            key=key,
            done_on=data.done_on,
            recorded_by=actor.key_id,
            recorded_at=clock.now(),
        )
    )
    await events.changed(
        session,
        contract,
        event="contract.milestone_done",
        business_date=data.done_on,
        actor=actor,
        clock=clock,
        before=before,
        payload={"key": key},
    )
    return contract


async def _missing_milestones(repo: ContractRepository, contract: Contract) -> list[str]:
    done = {m.key for m in await repo.milestones(contract.id)}
    return [k for k in MILESTONES[contract.onboarding_kind] if k not in done]


async def record_inspection(
    session: AsyncSession,
    contract_id: str,
    data: InspectionCreate,
    actor: Principal,
    clock: Clock,
) -> OnboardingInspection:
    """The contractor's inspection (検収, Art. 20.5–20.6), repeated until accepted."""
    contract = await load(session, contract_id, actor, for_update=True)
    ensure_allowed(contract.status, Move.RECORD_INSPECTION)
    repo = ContractRepository(session)
    missing = await _missing_milestones(repo, contract)
    if missing:
        raise Conflict(
            "The inspection follows the completed work: some milestones are not done.",
            code="milestones_incomplete",
            rule="R-LC-5",
            missing_milestones=missing,
        )
    last_done = max(m.done_on for m in await repo.milestones(contract.id))
    not_before(data.inspected_on, last_done, "inspected_on", "the last milestone", "R-LC-5")
    inspections = await repo.inspections(contract.id)
    if any(i.result == "accepted" for i in inspections):
        raise Conflict(
            "The onboarding has already passed its inspection.",
            code="inspection_already_accepted",
            rule="R-LC-5",
        )
    if inspections:
        previous = inspections[-1].inspected_on
        not_before(data.inspected_on, previous, "inspected_on", "the previous inspection", "R-LC-5")
    before = snapshot(contract)
    inspection = OnboardingInspection(
        id=new_id("ins"),
        contract_id=contract.id,
        inspected_on=data.inspected_on,
        result=data.result,
        certificate_on=data.certificate_on,
        defects=data.defects,
        recorded_by=actor.key_id,
        recorded_at=clock.now(),
    )
    await repo.add_row(inspection)
    await events.changed(
        session,
        contract,
        event="contract.inspected",
        business_date=data.inspected_on,
        actor=actor,
        clock=clock,
        before=before,
        payload={
            "result": data.result,
            "certificate_on": data.certificate_on,
            "defects": data.defects,
        },
    )
    return inspection


async def _open_service(
    session: AsyncSession, contract: Contract, actor: Principal, clock: Clock
) -> None:
    """At the service start: the monthly options applied for begin (R-CHG-2), and the
    one-time items go to the ledger for the first monthly invoice (R-CHG-3, 通則1),
    priced by the version in effect on the contract's received_on (R-CAT-4)."""
    assert contract.service_start_on is not None
    for option in ("soc", "reserved_ip"):
        if getattr(contract, option):
            session.add(
                ContractOption(
                    id=new_id("opt"),
                    contract_id=contract.id,
                    option=option,
                    starts_on=contract.service_start_on,
                )
            )
    book = (await load_price_books(session)).for_date(contract.received_on)
    await record_charges(
        session,
        contract_id=contract.id,
        lines=one_time_lines(book, contract.onboarding_kind, contract.ad_integration),
        kind=ChargeKind.ONE_TIME,
        month=Month.of(contract.service_start_on),
        source="activation",
        actor_key_id=actor.key_id,
        request_id=actor.request_id,
        clock=clock,
    )


async def complete(
    session: AsyncSession,
    contract_id: str,
    data: OnboardingComplete,
    actor: Principal,
    clock: Clock,
) -> Contract:
    """Completion: the service starts on ``completed_on`` (Art. 10.1, R-LC-5)."""
    contract = await load(session, contract_id, actor, for_update=True)
    ensure_allowed(contract.status, Move.COMPLETE_ONBOARDING)
    repo = ContractRepository(session)
    missing = await _missing_milestones(repo, contract)
    accepted = [i for i in await repo.inspections(contract.id) if i.result == "accepted"]
    if missing or not accepted:
        raise Unprocessable(
            "Completion needs every milestone done and an accepted inspection.",
            code="onboarding_incomplete",
            rule="R-LC-5",
            missing_milestones=missing,
            inspection_accepted=bool(accepted),
        )
    certificate_on = accepted[0].certificate_on
    assert certificate_on is not None
    assert contract.onboarding_started_on is not None
    not_before(
        data.completed_on, certificate_on, "completed_on", "the inspection certificate", "R-LC-5"
    )
    term_end = first_term_end(contract.onboarding_started_on)
    if data.completed_on > term_end:
        raise Unprocessable(
            f"Completion on {data.completed_on} is after the first term's end {term_end}, "
            "which is counted from the onboarding start.",
            code="completion_after_first_term",
            rule="R-LC-5",
            first_term_end=term_end,
            latest_allowed=term_end,
        )
    before = snapshot(contract)
    contract.status = Status.ACTIVE.value
    contract.service_start_on = data.completed_on
    await _open_service(session, contract, actor, clock)
    await events.changed(
        session,
        contract,
        event="contract.activated",
        business_date=data.completed_on,
        actor=actor,
        clock=clock,
        before=before,
        payload={"service_start_on": data.completed_on, "first_term_end": term_end},
    )
    return contract
