"""A live application on its own database, where requests really commit.

Most tests run inside one rolled-back transaction; tests of concurrency cannot, since
they need several connections that see each other's commits.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from app.api_keys.schemas import ApiKeyCreate
from app.api_keys.service import create_key
from app.auth.roles import Role
from app.core.clock import Clock
from app.core.database import Database, create_engine
from app.core.migrations import upgrade
from app.core.settings import Settings
from app.main import create_app
from tests.support.databases import fresh_database


@dataclass
class LiveApp:
    client: httpx.AsyncClient
    database: Database
    admin: dict[str, str]


@asynccontextmanager
async def live_app(db_kind: str, directory: Path, clock: Clock) -> AsyncIterator[LiveApp]:
    async with fresh_database(db_kind, directory) as url:
        await asyncio.to_thread(upgrade, url)
        database = Database(create_engine(url, pool_size=10))
        try:
            async with database.sessionmaker.begin() as session:
                _, secret = await create_key(
                    session, ApiKeyCreate(name="live admin", role=Role.ADMIN), clock
                )
            app = create_app(
                Settings(database_url=url, price_book_check_seconds=0),
                database=database,
                clock=clock,
            )
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://live") as client:
                yield LiveApp(client, database, {"Authorization": f"Bearer {secret}"})
        finally:
            await database.dispose()
