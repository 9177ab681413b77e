"""Issue 11: a customer create, through the whole application on a database whose
sessions connect themselves (as in production), is one statement in autocommit on
PostgreSQL, taken in its turn for the pool; a keyed create keeps its transaction."""

from __future__ import annotations

import uuid
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from app.api_keys.schemas import ApiKeyCreate
from app.api_keys.service import create_key
from app.audit import log
from app.auth.roles import Role
from app.core.clock import FixedClock
from app.core.settings import Settings
from app.main import create_app
from tests.support.databases import own_postgres
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
        seen: list[tuple[str, Any]] = []

        def _seen(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            seen.append((statement.split()[0], conn.get_execution_options().get("isolation_level")))

        app = create_app(
            Settings(database_url=database.url, log_level="WARNING"), database=database, clock=clock
        )
        key = {"Authorization": f"Bearer {secret}"}
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            await client.get("/v1/customers", headers=key)  # the key verified and kept
            taken.clear()
            event.listen(database.engine.sync_engine, "before_cursor_execute", _seen)
            try:
                plain = await client.post("/v1/customers", json=customer_body(), headers=key)
                assert plain.status_code == 201, plain.text
                assert seen == [("WITH", "AUTOCOMMIT")]
                assert taken == ["turn"]  # its one checkout, in arrival order
                seen.clear()
                taken.clear()
                keyed = await client.post(
                    "/v1/customers",
                    json=customer_body(),
                    headers={**key, "Idempotency-Key": uuid.uuid4().hex},
                )
                assert keyed.status_code == 201, keyed.text
                assert seen
                assert all(isolation is None for _, isolation in seen), seen
                assert taken == []  # its owner commits it, on the connection its look took
            finally:
                event.remove(database.engine.sync_engine, "before_cursor_execute", _seen)
            fetched = await client.get(plain.headers["location"], headers=key)
            assert fetched.json() == plain.json()
        assert (await log.verify(database)).ok
