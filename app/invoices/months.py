"""How far invoicing has got: the seam other features use to keep invoiced months fixed.

"No change may alter a month already invoiced" (DOMAIN.md, opening section), a charge
recorded now goes to the next invoice still open (R-CHG-3, R-CHG-7), and a new
price-book version must start in a month no invoice was issued for (R-CAT-4).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.charges import service as charges
from app.charges.models import Charge
from app.charges.schemas import ChargeRead
from app.contracts.models import Contract
from app.contracts.repository import ContractRepository
from app.core.clock import Clock
from app.core.errors import Conflict
from app.events.catalogue import EventType
from app.events.outbox import record_event
from app.invoices.models import Invoice
from app.pricing.calendar import Month
from app.pricing.lines import ChargeLine


async def last_invoiced_month(session: AsyncSession, contract_id: str) -> Month | None:
    """The latest month a live monthly invoice of this contract was issued for."""
    stmt = select(func.max(Invoice.monthly_month)).where(Invoice.contract_id == contract_id)
    value = await session.scalar(stmt)
    return Month.parse(value) if value else None


async def latest_invoiced_month(session: AsyncSession) -> Month | None:
    """The latest month any monthly invoice (voided ones included) was issued for."""
    value = await session.scalar(select(func.max(Invoice.month)).where(Invoice.kind == "monthly"))
    return Month.parse(value) if value else None


async def ensure_month_open(session: AsyncSession, contract: Contract, day: date) -> None:
    """No change may alter a month already invoiced (DOMAIN.md, opening section)."""
    invoiced = await last_invoiced_month(session, contract.id)
    if invoiced is not None and Month.of(day) <= invoiced:
        raise Conflict(
            f"{Month.of(day)} is already invoiced for this contract; a change must take "
            f"effect in {invoiced + 1} or later.",
            code="month_already_invoiced",
            invoiced_through=str(invoiced),
            earliest_allowed=(invoiced + 1).first_day,
        )


async def open_month(session: AsyncSession, contract_id: str, month: Month) -> Month:
    """``month``, or the first later month without a live monthly invoice of the contract
    (R-CHG-3, R-CHG-7; issue 9 §2): the month whose invoice a charge recorded now bills on.
    A voided invoice's month is open again."""
    rows = await session.scalars(
        select(Invoice.monthly_month).where(
            Invoice.contract_id == contract_id, Invoice.monthly_month >= str(month)
        )
    )
    taken = {m for m in rows.all() if m is not None}
    while str(month) in taken:
        month += 1
    return month


async def record_charges(
    session: AsyncSession,
    *,
    contract_id: str,
    lines: Sequence[ChargeLine],
    kind: str,
    month: Month,
    source: str,
    actor_key_id: str,
    clock: Clock,
    request_id: str | None = None,
) -> list[Charge]:
    """Record ``lines`` in the charge ledger, billed on ``month``'s invoice, once per
    ``source``.

    ``source`` names what caused the charges (``termination``, ``licence-change:…``); a
    retried request or job that records the same source again gets the existing charges
    back instead of a second copy (a unique constraint backs this up).

    R-CHG-3, issue 9 §2: when ``month``'s invoice is already issued, the charges go to the
    contract's next month not yet invoiced (``open_month``), decided here, once: the
    stored ``month`` is the one invoice that will carry them, whatever order months are
    billed in. The contract row is held until the commit, as the bill run holds it.
    """
    existing = await charges.for_source(session, contract_id, source)
    if existing:
        return existing
    await ContractRepository(session).lock(contract_id)
    month = await open_month(session, contract_id, month)
    recorded = await charges.add(
        session,
        contract_id=contract_id,
        lines=lines,
        kind=kind,
        month=month,
        source=source,
        actor_key_id=actor_key_id,
        clock=clock,
    )
    contract = await session.get(Contract, contract_id)
    assert contract is not None  # the caller loaded it; charges belong to a contract
    for charge in recorded:
        # Issue 12 §2: each ledger charge as GET /v1/contracts/{id}/charges lists it.
        await record_event(
            session,
            clock=clock,
            type=EventType.CHARGE_RECORDED,
            resource_type="charge",
            resource_id=charge.id,
            data=ChargeRead.model_validate(charge),
            customer_id=contract.customer_id,
            request_id=request_id,
        )
    return recorded
