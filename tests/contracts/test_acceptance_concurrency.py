"""R-LC-2 under concurrency: parallel requests on separate connections that commit.

Run on both databases; on PostgreSQL they exercise the row lock (SELECT … FOR UPDATE) and
the acceptance-queue advisory lock, on SQLite the database write lock.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from app.contracts.models import Contract, ContractEvent
from app.core.clock import FixedClock
from tests.support.factories import application_body, create_customer
from tests.support.live import LiveApp, live_app


@pytest.fixture
async def live(db_kind: str, tmp_path: Path, clock: FixedClock) -> AsyncIterator[LiveApp]:
    async with live_app(db_kind, tmp_path, clock) as app:
        yield app


async def _applications(live: LiveApp, count: int) -> list[str]:
    customer = await create_customer(live.client, live.admin)
    ids = []
    for day in range(count):
        body = application_body(
            customer["id"],
            received_on=f"2026-11-{day + 1:02d}",
            planned_installation_on="2026-12-15",
        )
        response = await live.client.post("/v1/contracts", json=body, headers=live.admin)
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return ids


async def test_two_operators_accepting_the_same_application_accept_it_once(
    live: LiveApp,
) -> None:
    (contract_id,) = await _applications(live, 1)
    responses = await asyncio.gather(
        *(
            live.client.post(f"/v1/contracts/{contract_id}/accept", headers=live.admin)
            for _ in range(8)
        )
    )
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {200: 1, 409: 7}
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"invalid_transition"}
    async with live.database.sessionmaker() as session:
        accepted = await session.scalars(
            select(ContractEvent).where(
                ContractEvent.contract_id == contract_id, ContractEvent.type == "contract.accepted"
            )
        )
        assert len(accepted.all()) == 1


async def test_accept_and_reject_racing_leave_one_decision(live: LiveApp) -> None:
    (contract_id,) = await _applications(live, 1)
    accept, reject = await asyncio.gather(
        live.client.post(f"/v1/contracts/{contract_id}/accept", headers=live.admin),
        live.client.post(
            f"/v1/contracts/{contract_id}/reject",
            json={"reason": "payment_risk", "notice": "お申込みをお受けできません。"},
            headers=live.admin,
        ),
    )
    assert sorted([accept.status_code, reject.status_code]) == [200, 409]
    final = (await live.client.get(f"/v1/contracts/{contract_id}", headers=live.admin)).json()
    winner = "accepted" if accept.status_code == 200 else "rejected"
    assert final["status"] == winner


async def test_accepting_a_whole_queue_at_once_never_skips_an_earlier_application(
    live: LiveApp,
) -> None:
    for _ in range(3):
        ids = await _applications(live, 6)
        responses = await asyncio.gather(
            *(live.client.post(f"/v1/contracts/{i}/accept", headers=live.admin) for i in ids)
        )
        for response in responses:
            assert response.status_code in (200, 409), response.text
        async with live.database.sessionmaker() as session:
            rows = (await session.scalars(select(Contract).where(Contract.id.in_(ids)))).all()
        by_id = {c.id: c.status for c in rows}
        states = [by_id[i] for i in ids]
        # Accepted ones form a prefix of the queue: none was accepted past a waiting one.
        accepted = [s == "accepted" for s in states]
        assert accepted == sorted(accepted, reverse=True), states
        assert accepted[0]
        # Clear the queue for the next round.
        for contract_id, status in zip(ids, states, strict=True):
            if status == "applied":
                await live.client.post(f"/v1/contracts/{contract_id}/withdraw", headers=live.admin)


async def test_parallel_applications_get_distinct_arrival_order(live: LiveApp) -> None:
    customer = await create_customer(live.client, live.admin)
    body = application_body(
        customer["id"], received_on="2026-11-20", planned_installation_on="2026-12-15"
    )
    responses = await asyncio.gather(
        *(live.client.post("/v1/contracts", json=body, headers=live.admin) for _ in range(12))
    )
    assert [r.status_code for r in responses] == [201] * 12
    async with live.database.sessionmaker() as session:
        seqs = (await session.scalars(select(Contract.arrival_seq))).all()
    assert sorted(seqs) == list(range(1, 13))
