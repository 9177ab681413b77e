"""Issue 11: a customer create, through the whole application on a database whose
sessions connect themselves (as in production), is one statement in autocommit on
PostgreSQL, run by asyncpg itself and taken in its turn for the pool; a keyed create
keeps its transaction. What reached the driver is read off asyncpg's query logger, which
leaves the driver's path on (tests/support/driver_log.py)."""

from __future__ import annotations

import uuid
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import httpx
import pytest

from app.api_keys.schemas import ApiKeyCreate
from app.api_keys.service import create_key
from app.audit import log
from app.auth.roles import Role
from app.core.clock import FixedClock
from app.core.settings import Settings
from app.main import create_app
from tests.support.databases import own_postgres
from tests.support.driver_log import driver_queries
from tests.support.factories import customer_body


async def test_a_create_is_one_autocommit_statement_in_its_turn_and_a_keyed_one_a_transaction(
    db_kind: str, tmp_path: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    if db_kind != "postgres":
        pytest.skip("autocommit saves PostgreSQL's BEGIN and COMMIT round trips")
    async with own_postgres(tmp_path) as database:
        async with database.sessionmaker.begin() as session:
            _, secret = await create_key(session, ApiKeyCreate(name="t", role=Role.ADMIN), clock)
        turns = database._turns
        assert turns is not None
        taken: list[str] = []
        take = turns.turn

        def counted() -> AbstractAsyncContextManager[None]:
            taken.append("turn")
            return take()

        monkeypatch.setattr(turns, "turn", counted)
        app = create_app(
            Settings(database_url=database.url, log_level="WARNING"), database=database, clock=clock
        )
        key = {"Authorization": f"Bearer {secret}"}
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            await client.get("/v1/customers", headers=key)  # the key verified and kept
            taken.clear()
            async with driver_queries(database.engine) as seen:
                plain = await client.post("/v1/customers", json=customer_body(), headers=key)
            assert plain.status_code == 201, plain.text
            assert [query.split()[0] for query in seen] == ["WITH"]  # no BEGIN, no COMMIT
            assert taken == ["turn"]  # its one checkout, in arrival order
            taken.clear()
            async with driver_queries(database.engine) as seen:
                keyed = await client.post(
                    "/v1/customers",
                    json=customer_body(),
                    headers={**key, "Idempotency-Key": uuid.uuid4().hex},
                )
            assert keyed.status_code == 201, keyed.text
            assert [query.split()[0].rstrip(";") for query in seen] == ["BEGIN", "COMMIT"], seen
            assert taken == []  # its owner commits it, on the connection its look took
            fetched = await client.get(plain.headers["location"], headers=key)
            assert fetched.json() == plain.json()
        assert (await log.verify(database)).ok
