from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.charges.models import Charge
from app.core.pagination import PageParams, paginate


class ChargeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_all(self, charges: Sequence[Charge]) -> None:
        self.session.add_all(charges)
        await self.session.flush()

    async def by_source(self, contract_id: str, source: str) -> list[Charge]:
        stmt = select(Charge).where(Charge.contract_id == contract_id, Charge.source == source)
        return list((await self.session.scalars(stmt.order_by(Charge.id))).all())

    async def page(self, contract_id: str, params: PageParams) -> tuple[list[Charge], str | None]:
        stmt = select(Charge).where(Charge.contract_id == contract_id)
        return await paginate(
            self.session, stmt, keys=[Charge.id], key_of=lambda c: [c.id], params=params
        )

    async def unbilled_due(self, contract_ids: Sequence[str], month: str) -> list[Charge]:
        """Unbilled charges of these contracts due on the invoice for ``month``."""
        stmt = (
            select(Charge)
            .where(
                Charge.contract_id.in_(contract_ids),
                Charge.invoice_id.is_(None),
                Charge.month <= month,
            )
            .order_by(Charge.contract_id, Charge.month, Charge.id)
        )
        return list((await self.session.scalars(stmt)).all())

    async def mark_billed(self, charge_ids: Sequence[str], invoice_id: str) -> int:
        """Stamp charges with their invoice; only those still unbilled. Returns the count."""
        stmt = (
            update(Charge)
            .where(Charge.id.in_(charge_ids), Charge.invoice_id.is_(None))
            .values(invoice_id=invoice_id)
            .execution_options(synchronize_session=False)
        )
        result = await self.session.execute(stmt)
        return int(result.rowcount)  # type: ignore[attr-defined]
