"""Fixtures shared by every test.

``--db sqlite`` (default) or ``--db postgres`` chooses the database the whole run uses;
``make test`` runs the suite once with each. With ``REQUIRE_POSTGRES=1`` an unreachable
PostgreSQL fails the run instead of skipping it.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.api_keys.schemas import ApiKeyCreate
from app.api_keys.service import create_key
from app.auth.roles import Role
from app.core.clock import FixedClock
from app.core.database import create_engine
from app.core.migrations import upgrade
from app.core.settings import Settings
from app.customers.models import Customer
from app.main import create_app
from tests.support.databases import BoundDatabase, fresh_database

TODAY = date(2026, 11, 24)
KeyFactory = Callable[..., Awaitable[dict[str, str]]]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db", choices=("sqlite", "postgres"), default=os.environ.get("SCMS_TEST_DB", "sqlite")
    )


@pytest.fixture(scope="session")
def db_kind(request: pytest.FixtureRequest) -> str:
    kind: str = request.config.getoption("--db")
    return kind


@pytest.fixture(scope="session")
async def database_url(
    db_kind: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    # fresh_database skips when no PostgreSQL answers, and fails when one refuses.
    async with fresh_database(db_kind, tmp_path_factory.mktemp("db")) as url:
        await asyncio.to_thread(upgrade, url)
        yield url


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=5)
    yield engine
    await engine.dispose()


@pytest.fixture
async def database(engine: AsyncEngine) -> AsyncIterator[BoundDatabase]:
    async with engine.connect() as connection:
        transaction = await connection.begin()
        try:
            yield BoundDatabase(engine, connection)
        finally:
            await transaction.rollback()


@pytest.fixture
async def session(database: BoundDatabase) -> AsyncIterator[AsyncSession]:
    async with database.sessionmaker() as session:
        yield session


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock.on(TODAY)


@pytest.fixture
def settings(database_url: str) -> Settings:
    # Quotes check the price books every time: the books' cache is the process's, and the
    # tests' databases come and go under one process (tests/quotes checks the bound).
    return Settings(
        database_url=database_url,
        admin_api_key=None,
        log_level="WARNING",
        price_book_check_seconds=0,
    )


@pytest.fixture
def app(settings: Settings, database: BoundDatabase, clock: FixedClock) -> FastAPI:
    return create_app(settings, database=database, clock=clock)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://scms.test") as client:
        yield client


@pytest.fixture
def make_key(database: BoundDatabase, clock: FixedClock) -> KeyFactory:
    """Create an API key of a role and return the headers that present it."""

    async def make(role: Role | str = Role.ADMIN, customer_id: str | None = None) -> dict[str, str]:
        async with database.sessionmaker() as session:
            if customer_id is not None and await session.get(Customer, customer_id) is None:
                # A portal key needs an existing customer (issue 9 §8): a bare id gets one.
                now = clock.now()
                session.add(
                    Customer(
                        id=customer_id,
                        name="株式会社テスト",
                        billing_name="株式会社テスト",
                        email="test@example.co.jp",
                        created_at=now,
                        updated_at=now,
                    )
                )
            _, secret = await create_key(
                session,
                ApiKeyCreate(name=f"test {role}", role=Role(role), customer_id=customer_id),
                clock,
            )
            await session.commit()
        return {"Authorization": f"Bearer {secret}"}

    return make


@pytest.fixture
async def admin(make_key: KeyFactory) -> dict[str, str]:
    return await make_key(Role.ADMIN)


@pytest.fixture(scope="session")
def project_root() -> Path:
    return Path(__file__).resolve().parents[1]
