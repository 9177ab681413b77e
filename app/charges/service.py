"""Writing to and reading from the charge ledger. Other features call only this module."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app.charges.models import Charge
from app.charges.repository import ChargeRepository
from app.core.clock import Clock
from app.core.ids import new_id
from app.pricing.calendar import Month
from app.pricing.lines import ChargeLine


async def record(
    session: AsyncSession,
    *,
    contract_id: str,
    lines: Sequence[ChargeLine],
    kind: str,
    month: Month,
    source: str,
    actor_key_id: str,
    clock: Clock,
) -> list[Charge]:
    """Record ``lines`` as charges due on ``month``'s invoice, once per ``source``.

    ``source`` names what caused the charges (``termination``, ``licence-change:…``); a
    retried request or job that records the same source again gets the existing charges
    back instead of a second copy (a unique constraint backs this up).
    """
    repo = ChargeRepository(session)
    existing = await repo.by_source(contract_id, source)
    if existing:
        return existing
    now = clock.now()
    charges = [
        Charge(
            id=new_id("chg"),
            contract_id=contract_id,
            kind=kind,
            item=line.item,
            description=line.description,
            quantity=line.quantity,
            unit_price=line.unit_price,
            amount=line.amount,
            taxable=line.taxable,
            month=str(month),
            rule=line.rule,
            source=source,
            position=position,
            created_by=actor_key_id,
            created_at=now,
        )
        for position, line in enumerate(lines)
    ]
    await repo.add_all(charges)
    return charges


async def for_source(session: AsyncSession, contract_id: str, source: str) -> list[Charge]:
    return await ChargeRepository(session).by_source(contract_id, source)
