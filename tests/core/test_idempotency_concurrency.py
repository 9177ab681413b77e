"""Concurrent identical requests under one Idempotency-Key create once (issue 12 §7).

On a live database where requests really commit: the attempts race for the key; one
runs the request, the others get its answer or 409 ``idempotency_key_in_use``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.core.clock import FixedClock
from app.customers.models import Customer
from tests.support.factories import customer_body
from tests.support.live import LiveApp, live_app

ATTEMPTS = 12


@pytest.fixture
async def live(db_kind: str, tmp_path: Path, clock: FixedClock) -> AsyncIterator[LiveApp]:
    async with live_app(db_kind, tmp_path, clock) as app:
        yield app


async def test_concurrent_identical_requests_under_one_key_create_once(live: LiveApp) -> None:
    headers = {**live.admin, "Idempotency-Key": "crm-sync-42"}
    body = customer_body(external_ref=None)
    responses = await asyncio.gather(
        *(live.client.post("/v1/customers", json=body, headers=headers) for _ in range(ATTEMPTS))
    )
    statuses = sorted(r.status_code for r in responses)
    assert set(statuses) <= {201, 409}, [r.text for r in responses]
    created = [r for r in responses if r.status_code == 201]
    first = [r for r in created if "idempotent-replayed" not in r.headers]
    assert len(first) == 1
    assert {r.json()["id"] for r in created} == {first[0].json()["id"]}
    for busy in (r for r in responses if r.status_code == 409):
        assert busy.json()["code"] == "idempotency_key_in_use"
        assert int(busy.headers["retry-after"]) >= 1
    async with live.database.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Customer)) == 1
    # Once the first has answered, everyone gets its answer.
    after = await live.client.post("/v1/customers", json=body, headers=headers)
    assert (after.status_code, after.headers["idempotent-replayed"]) == (201, "true")
    assert after.json() == first[0].json()
