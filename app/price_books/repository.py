from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import PageParams, cursor_text, paginate
from app.price_books.models import PriceBookVersion


class PriceBookRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, version: PriceBookVersion) -> PriceBookVersion:
        self.session.add(version)
        await self.session.flush()
        return version

    async def get(self, version_id: str) -> PriceBookVersion | None:
        return await self.session.get(PriceBookVersion, version_id)

    async def by_effective_from(self, effective_from: date) -> PriceBookVersion | None:
        stmt = select(PriceBookVersion).where(PriceBookVersion.effective_from == effective_from)
        return (await self.session.scalars(stmt)).one_or_none()

    async def all(self) -> list[PriceBookVersion]:
        """Every version, oldest first. There are a handful: one per price change."""
        stmt = select(PriceBookVersion).order_by(PriceBookVersion.effective_from)
        return list((await self.session.scalars(stmt)).all())

    async def page(self, params: PageParams) -> tuple[list[PriceBookVersion], str | None]:
        """Newest ``effective_from`` first."""
        return await paginate(
            self.session,
            select(PriceBookVersion),
            keys=[PriceBookVersion.effective_from, PriceBookVersion.id],
            key_of=lambda v: [v.effective_from, v.id],
            params=params,
            parse=[date.fromisoformat, cursor_text],
        )
