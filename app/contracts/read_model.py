"""The contract as API.md shows it: state, onboarding, term as of today, charges.

Everything derived (deadline, overdue, warranty, term, renewals, monthly charge) is
computed from stored dates on each read, so it is right whatever day it is read.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from app.contracts.billing import timeline_for as timeline
from app.contracts.models import Contract
from app.contracts.repository import ContractRepository
from app.contracts.schemas import (
    Administrator,
    ContractRead,
    InspectionRead,
    MilestoneRead,
    OnboardingRead,
    Options,
    RejectionRead,
    RejectionReason,
    TerminationRead,
    TermRead,
)
from app.contracts.states import MILESTONES, PRE_SERVICE, Status, effective_status
from app.price_books.service import load_price_books
from app.pricing.calendar import Month, notice_deadline, onboarding_deadline, term_on, warranty_end
from app.pricing.catalogue import OnboardingKind, Plan
from app.pricing.liability import liability_cap
from app.pricing.price_book import PriceBooks
from app.pricing.recurring import ContractShape, monthly_charge


def shape_of(contract: Contract) -> ContractShape:
    options = {name for name in ("soc", "reserved_ip") if getattr(contract, name)}
    return ContractShape(contract.plan, contract.license_ids, frozenset(options))


def _term(contract: Contract, today: date) -> TermRead | None:
    if contract.service_start_on is None or contract.onboarding_started_on is None:
        return None
    end = contract.termination_effective_on
    # A terminated contract shows its last term.
    on = min(today, end) if end is not None else today
    term = term_on(contract.onboarding_started_on, contract.service_start_on, on)
    return TermRead(
        start_on=term.start_on,
        end_on=term.end_on,
        notice_deadline=notice_deadline(term.end_on),
        renewals=term.renewals,
    )


async def onboarding_view(session: AsyncSession, contract: Contract, today: date) -> OnboardingRead:
    repo = ContractRepository(session)
    done = {m.key: m.done_on for m in await repo.milestones(contract.id)}
    inspections = await repo.inspections(contract.id)
    deadline = onboarding_deadline(contract.planned_installation_on)
    return OnboardingRead(
        kind=OnboardingKind(contract.onboarding_kind),
        planned_installation_on=contract.planned_installation_on,
        deadline=deadline,
        # R-LC-6: not active by the deadline (only a contract the carrier accepted).
        overdue=Status(contract.status) in PRE_SERVICE and today > deadline,
        started_on=contract.onboarding_started_on,
        performed_by=contract.onboarding_performed_by,
        milestones=[
            MilestoneRead(key=key, done_on=done.get(key))
            for key in MILESTONES[contract.onboarding_kind]
        ],
        inspections=[InspectionRead.model_validate(i) for i in inspections],
        completed_on=contract.service_start_on,
        warranty_until=(
            warranty_end(contract.service_start_on) if contract.service_start_on else None
        ),
    )


async def build(
    session: AsyncSession, contract: Contract, today: date, books: PriceBooks | None = None
) -> ContractRead:
    books = books or await load_price_books(session)
    shape = shape_of(contract)
    if contract.service_start_on is not None:
        # While the service runs, licences and options are what the history says today.
        history = await timeline(session, contract)
        shape = history.shape_on(
            max(contract.service_start_on, min(today, contract.termination_effective_on or today))
        )
    charge = monthly_charge(books.for_month(Month.of(today)), shape)
    termination = None
    if contract.termination_reason is not None:
        assert contract.termination_effective_on is not None
        termination = TerminationRead(
            reason=contract.termination_reason,
            effective_on=contract.termination_effective_on,
            notice_on=contract.termination_notice_on,
            breach_item=contract.termination_breach_item,
            recorded_on=contract.termination_recorded_on,
            done=contract.termination_effective_on < today,
        )
    rejection = None
    if contract.rejected_on is not None and contract.rejection_reason is not None:
        rejection = RejectionRead(
            rejected_on=contract.rejected_on,
            reason=RejectionReason(contract.rejection_reason),
            notice=contract.rejection_notice or "",
        )
    return ContractRead(
        id=contract.id,
        customer_id=contract.customer_id,
        status=effective_status(contract, today),
        plan=Plan(contract.plan),
        license_ids=shape.license_ids,
        options=Options(
            soc="soc" in shape.options,
            reserved_ip="reserved_ip" in shape.options,
            ad_integration=contract.ad_integration,
        ),
        received_on=contract.received_on,
        accepted_on=contract.accepted_on,
        out_of_order_reason=contract.out_of_order_reason,
        rejection=rejection,
        withdrawn_on=contract.withdrawn_on,
        administrators=[Administrator(**a) for a in contract.administrators],
        onboarding=await onboarding_view(session, contract, today),
        service_start_on=contract.service_start_on,
        term=_term(contract, today),
        termination=termination,
        monthly_charge=charge,
        liability_cap=liability_cap(charge),
        predecessor_id=contract.predecessor_id,
        successor_id=contract.successor_id,
        created_at=contract.created_at,
        updated_at=contract.updated_at,
    )
