from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import ApiKey
from app.core.pagination import PageParams, paginate


class ApiKeyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, key: ApiKey) -> ApiKey:
        self.session.add(key)
        await self.session.flush()
        return key

    async def get(self, key_id: str) -> ApiKey | None:
        return await self.session.get(ApiKey, key_id)

    async def by_hash(self, key_hash: str) -> ApiKey | None:
        stmt = select(ApiKey).where(ApiKey.key_hash == key_hash)
        return (await self.session.scalars(stmt)).one_or_none()

    async def page(
        self, params: PageParams, *, include_revoked: bool
    ) -> tuple[list[ApiKey], str | None]:
        stmt = select(ApiKey)
        if not include_revoked:
            stmt = stmt.where(ApiKey.revoked_at.is_(None))
        return await paginate(
            self.session, stmt, keys=[ApiKey.id], key_of=lambda k: [k.id], params=params
        )


async def key_names(session: AsyncSession, key_ids: Iterable[str]) -> dict[str, tuple[str, str]]:
    """Each key's ``(name, role)`` by id, revoked keys included (the operation log names
    who acted long after a key is revoked)."""
    wanted = sorted(set(key_ids))
    if not wanted:
        return {}
    rows = await session.execute(
        select(ApiKey.id, ApiKey.name, ApiKey.role).where(ApiKey.id.in_(wanted))
    )
    return {key_id: (name, role) for key_id, name, role in rows}
