from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import PageParams, paginate
from app.customers.models import Customer


class CustomerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, customer_id: str, *, for_update: bool = False) -> Customer | None:
        stmt = select(Customer).where(Customer.id == customer_id)
        if for_update:
            stmt = stmt.with_for_update()
        return (await self.session.scalars(stmt)).one_or_none()

    async def by_external_ref(self, external_ref: str) -> Customer | None:
        stmt = select(Customer).where(Customer.external_ref == external_ref)
        return (await self.session.scalars(stmt)).one_or_none()

    async def page(
        self,
        params: PageParams,
        *,
        external_ref: str | None = None,
        name: str | None = None,
        only_id: str | None = None,
    ) -> tuple[list[Customer], str | None]:
        stmt = select(Customer)
        if external_ref is not None:
            stmt = stmt.where(Customer.external_ref == external_ref)
        if name is not None:
            stmt = stmt.where(func.lower(Customer.name).contains(name.lower(), autoescape=True))
        if only_id is not None:
            stmt = stmt.where(Customer.id == only_id)
        return await paginate(
            self.session, stmt, keys=[Customer.id], key_of=lambda c: [c.id], params=params
        )
