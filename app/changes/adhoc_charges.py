"""Ad-hoc charges (R-CHG-8, R-CHG-9): overage, extra work, collection costs, surcharges.

They go to the ledger for the month given, which must be a service month of the contract
not yet invoiced, so the bill run of that month carries them and none is stranded.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import snapshot
from app.auth.service import Principal
from app.charges import service as charges
from app.charges.models import Charge
from app.charges.schemas import AdHocChargeCreate
from app.contracts import events
from app.contracts.guards import load
from app.contracts.states import Status, effective_status
from app.core.clock import Clock
from app.core.errors import InvalidTransition, Unprocessable
from app.core.ids import new_id
from app.invoices.months import ensure_month_open, record_charges
from app.price_books.service import load_price_books
from app.pricing.calendar import Month


async def add_charge(
    session: AsyncSession,
    contract_id: str,
    data: AdHocChargeCreate,
    actor: Principal,
    clock: Clock,
) -> list[Charge]:
    contract = await load(session, contract_id, actor, for_update=True)
    status = effective_status(contract, clock.today())
    if status not in (Status.ACTIVE, Status.TERMINATED) or contract.service_start_on is None:
        raise InvalidTransition(
            "Ad-hoc charges are billed on monthly invoices: the service must have started.",
            current=status.value,
            allowed=[],
        )
    month = Month.parse(data.month)
    first = Month.of(contract.service_start_on)
    end = contract.termination_effective_on
    last = Month.of(end) if end is not None else None
    if month < first or (last is not None and month > last):
        raise Unprocessable(
            f"{month} is not a billing month of this contract ({first} to {last or 'open'}).",
            code="month_outside_service",
            rule="R-CHG-9",
            field="month",
            first_month=str(first),
            last_month=str(last) if last else None,
        )
    await ensure_month_open(session, contract, month.first_day)
    book = (await load_price_books(session)).for_month(month)
    lines = charges.ad_hoc_lines(data.kind, data.description, data.amount, data.taxable, book)
    before = snapshot(contract)
    recorded = await record_charges(
        session,
        contract_id=contract.id,
        lines=lines,
        kind=data.kind,
        month=month,
        source=f"ad-hoc:{new_id('src')}",
        actor_key_id=actor.key_id,
        request_id=actor.request_id,
        clock=clock,
    )
    await events.changed(
        session,
        contract,
        event="contract.charge_added",
        business_date=month.first_day,
        actor=actor,
        clock=clock,
        before=before,
        payload={"kind": data.kind, "month": data.month, "amount": sum(c.amount for c in recorded)},
    )
    return recorded
