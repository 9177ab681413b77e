from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import String, bindparam, case, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from app.charges.models import Charge
from app.core.models import Timestamp
from app.core.pagination import PageParams, paginate
from app.core.sql import among


class ChargeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_all(self, charges: Sequence[Charge]) -> None:
        self.session.add_all(charges)
        await self.session.flush()

    async def by_source(self, contract_id: str, source: str) -> list[Charge]:
        stmt = select(Charge).where(Charge.contract_id == contract_id, Charge.source == source)
        return list((await self.session.scalars(stmt.order_by(Charge.id))).all())

    async def by_sources(self, contract_id: str, sources: Sequence[str]) -> list[Charge]:
        """The charges of several sources at once (a page of changes: one statement)."""
        if not sources:
            return []
        stmt = select(Charge).where(Charge.contract_id == contract_id, Charge.source.in_(sources))
        return list((await self.session.scalars(stmt.order_by(Charge.id))).all())

    async def page(self, contract_id: str, params: PageParams) -> tuple[list[Charge], str | None]:
        stmt = select(Charge).where(Charge.contract_id == contract_id)
        return await paginate(
            self.session, stmt, keys=[Charge.id], key_of=lambda c: [c.id], params=params
        )

    async def unbilled_due_rows(self, contract_ids: Sequence[str], month: str) -> list[Any]:
        """Unbilled charges of these contracts billed on ``month``'s invoice (those of that
        month, issue 9 §2), as plain rows (the columns an invoice line needs): the bill
        run reads thousands at a time."""
        stmt = (
            select(
                Charge.id,
                Charge.contract_id,
                Charge.item,
                Charge.description,
                Charge.quantity,
                Charge.unit_price,
                Charge.amount,
                Charge.taxable,
                Charge.month,
                Charge.rule,
            )
            .where(
                among(self.session, Charge.contract_id, contract_ids),
                Charge.invoice_id.is_(None),
                Charge.month == month,
            )
            .order_by(Charge.contract_id, Charge.month, Charge.id)
        )
        return list((await self.session.execute(stmt)).all())

    async def mark_billed_many(self, invoice_of: Mapping[str, str], billed_at: datetime) -> int:
        """Stamp each charge with its invoice in one statement; only those still unbilled.

        Returns the count stamped: less than ``len(invoice_of)`` means another invoice
        took some of them first (the caller rolls back and retries).
        """
        if not invoice_of:
            return 0
        if self.session.get_bind().dialect.name == "postgresql":
            # Two array parameters instead of a CASE of hundreds of binds to render.
            result = await self.session.execute(
                text(
                    "UPDATE charges SET invoice_id = v.invoice_id, billed_at = :billed_at "
                    "FROM unnest(CAST(:ids AS VARCHAR[]), CAST(:invoices AS VARCHAR[])) "
                    "AS v(id, invoice_id) "
                    "WHERE charges.id = v.id AND charges.invoice_id IS NULL"
                ).bindparams(
                    bindparam("ids", list(invoice_of), type_=ARRAY(String)),
                    bindparam("invoices", list(invoice_of.values()), type_=ARRAY(String)),
                    bindparam("billed_at", billed_at, type_=Timestamp),
                )
            )
            return int(result.rowcount)  # type: ignore[attr-defined]
        stmt = (
            update(Charge)
            .where(among(self.session, Charge.id, list(invoice_of)), Charge.invoice_id.is_(None))
            .values(invoice_id=case(dict(invoice_of), value=Charge.id), billed_at=billed_at)
            .execution_options(synchronize_session=False)
        )
        result = await self.session.execute(stmt)
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def release(self, invoice_id: str) -> int:
        """Unstamp the charges of a voided invoice, so the next invoice bills them again."""
        stmt = (
            update(Charge)
            .where(Charge.invoice_id == invoice_id)
            .values(invoice_id=None, billed_at=None)
            .execution_options(synchronize_session=False)
        )
        result = await self.session.execute(stmt)
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def billed_of_kind(self, contract_id: str, kind: str) -> list[Charge]:
        """The contract's charges of ``kind`` already stamped with an invoice."""
        stmt = select(Charge).where(
            Charge.contract_id == contract_id, Charge.kind == kind, Charge.invoice_id.is_not(None)
        )
        return list((await self.session.scalars(stmt.order_by(Charge.id))).all())
