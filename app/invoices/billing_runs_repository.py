from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.contracts.billing import billable_ids_query
from app.core.pagination import PageParams, paginate
from app.core.sql import among
from app.invoices.models import BillingRun, Invoice
from app.pricing.calendar import Month


class BillingRunRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, run: BillingRun) -> None:
        self.session.add(run)
        await self.session.flush()

    async def get(self, run_id: str) -> BillingRun | None:
        return await self.session.get(BillingRun, run_id, populate_existing=True)

    async def page(self, params: PageParams) -> tuple[list[BillingRun], str | None]:
        return await paginate(
            self.session,
            select(BillingRun),
            keys=[BillingRun.id],
            key_of=lambda r: [r.id],
            params=params,
        )

    async def add_counts(self, run_id: str, *, created: int, existing: int, failed: int) -> None:
        """Add a batch's counts, in the batch's own transaction (so they match its commit)."""
        if not (created or existing or failed):
            return
        await self.session.execute(
            update(BillingRun)
            .where(BillingRun.id == run_id)
            .values(
                invoices_created=BillingRun.invoices_created + created,
                invoices_existing=BillingRun.invoices_existing + existing,
                failed=BillingRun.failed + failed,
            )
            .execution_options(synchronize_session=False)
        )

    async def count_invoiced(self, month: Month) -> int:
        """How many of the contracts billing in ``month`` have its live monthly invoice."""
        value = await self.session.scalar(
            select(func.count())
            .select_from(Invoice)
            .where(
                Invoice.monthly_month == str(month),
                Invoice.contract_id.in_(billable_ids_query(month)),
            )
        )
        return int(value or 0)

    async def invoiced(self, contract_ids: Sequence[str], month: str) -> set[str]:
        """The contracts among ``contract_ids`` with a live monthly invoice for ``month``."""
        if not contract_ids:
            return set()
        rows = await self.session.scalars(
            select(Invoice.contract_id).where(
                Invoice.monthly_month == month,
                among(self.session, Invoice.contract_id, contract_ids),
            )
        )
        return set(rows.all())
