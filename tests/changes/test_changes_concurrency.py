"""Conflicting contract changes arriving at once (R-TERM-4, R-LC-7, R-CHG-5): exactly one
wins, the others get 409, and the ledger holds exactly one charge.

Requests run on separate connections that commit (a live database): on PostgreSQL they
exercise the contract row lock (SELECT … FOR UPDATE), on SQLite the database write lock.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.charges.models import Charge
from app.core.clock import FixedClock
from tests.support.factories import EXAMPLE_B, activate, apply, create_customer
from tests.support.live import LiveApp, live_app


@pytest.fixture
async def live(db_kind: str, tmp_path: Path, clock: FixedClock) -> AsyncIterator[LiveApp]:
    async with live_app(db_kind, tmp_path, clock) as app:
        yield app


async def _active(live: LiveApp, **overrides: Any) -> str:
    customer = await create_customer(live.client, live.admin)
    contract = await apply(live.client, live.admin, customer["id"], **overrides)
    active = await activate(live.client, live.admin, contract)
    return str(active["id"])


async def _charges(live: LiveApp, contract_id: str, kind: str) -> list[Charge]:
    async with live.database.sessionmaker() as session:
        rows = await session.scalars(
            select(Charge).where(Charge.contract_id == contract_id, Charge.kind == kind)
        )
        return list(rows.all())


def _post(live: LiveApp, path: str, body: dict[str, Any]) -> Any:
    return live.client.post(path, json=body, headers=live.admin)


def _codes(responses: list[httpx.Response]) -> Counter[str]:
    return Counter(r.json()["code"] for r in responses if r.status_code == 409)


async def test_r_term_4_parallel_terminations_schedule_one(live: LiveApp) -> None:
    contract_id = await _active(live, **EXAMPLE_B)
    path = f"/v1/contracts/{contract_id}/terminations"
    bodies = [
        {"reason": "contractor_request", "effective_on": "2026-12-10", "notice_on": "2026-09-10"},
        {"reason": "payment_default", "effective_on": "2026-12-31"},
    ] * 3
    responses = await asyncio.gather(*(_post(live, path, b) for b in bodies))
    assert Counter(r.status_code for r in responses) == {200: 1, 409: 5}, [
        r.text for r in responses
    ]
    assert _codes(responses) == {"termination_already_scheduled": 5}
    (charge,) = await _charges(live, contract_id, "early-termination")
    assert charge.amount == 5 * 501_200
    final = (await live.client.get(f"/v1/contracts/{contract_id}", headers=live.admin)).json()
    winner = next(b for b, r in zip(bodies, responses, strict=True) if r.status_code == 200)
    assert final["termination"]["reason"] == winner["reason"]


async def test_r_lc_7_a_termination_and_a_licence_decrease_at_once_leave_one_charge(
    live: LiveApp,
) -> None:
    """Terminating on 2026-12-10 and decreasing on 2026-12-20 contradict each other: the
    decrease is after the end, or the end is before the decrease."""
    for _ in range(3):
        contract_id = await _active(live, **EXAMPLE_B)
        base = f"/v1/contracts/{contract_id}"
        termination, decrease = await asyncio.gather(
            _post(
                live,
                f"{base}/terminations",
                {
                    "reason": "contractor_request",
                    "effective_on": "2026-12-10",
                    "notice_on": "2026-09-10",
                },
            ),
            _post(
                live,
                f"{base}/license-changes",
                {"license_ids": 60, "effective_on": "2026-12-20", "notice_on": "2026-09-10"},
            ),
        )
        statuses = sorted([termination.status_code, decrease.status_code])
        assert statuses in ([200, 409], [201, 409]), (termination.text, decrease.text)
        assert statuses == ([201, 409] if decrease.status_code == 201 else [200, 409])
        loser = termination if termination.status_code == 409 else decrease
        assert loser.json()["code"] in ("after_termination", "changes_after_termination")
        (charge,) = await _charges(live, contract_id, "early-termination")
        expected = 5 * 501_200 if termination.status_code == 200 else 5 * 6 * 22_600
        assert charge.amount == expected


async def test_r_lc_7_parallel_licence_decreases_record_one(live: LiveApp) -> None:
    contract_id = await _active(live, **EXAMPLE_B)
    path = f"/v1/contracts/{contract_id}/license-changes"
    body = {"license_ids": 60, "effective_on": "2026-12-10", "notice_on": "2026-09-10"}
    responses = await asyncio.gather(*(_post(live, path, body) for _ in range(6)))
    assert Counter(r.status_code for r in responses) == {201: 1, 409: 5}
    assert _codes(responses) == {"licence_change_out_of_order": 5}
    (charge,) = await _charges(live, contract_id, "early-termination")
    assert charge.amount == 678_000
    history = await live.client.get(path, headers=live.admin)
    assert [c["license_ids"] for c in history.json()["items"]] == [60]


async def test_r_lc_7_parallel_option_changes_apply_once(live: LiveApp) -> None:
    contract_id = await _active(live)  # example A: no options
    base = f"/v1/contracts/{contract_id}"
    added = await asyncio.gather(
        *(
            _post(
                live, f"{base}/options", {"option": "ad_integration", "effective_on": "2026-12-01"}
            )
            for _ in range(4)
        )
    )
    assert Counter(r.status_code for r in added) == {200: 1, 409: 3}
    assert (
        len(
            [c for c in await _charges(live, contract_id, "one-time") if c.item == "ad-integration"]
        )
        == 1
    )
    reserved = await asyncio.gather(
        *(
            _post(live, f"{base}/options", {"option": "reserved_ip", "effective_on": "2026-12-01"})
            for _ in range(4)
        )
    )
    assert Counter(r.status_code for r in reserved) == {200: 1, 409: 3}
    removals = await asyncio.gather(
        *(
            _post(
                live,
                f"{base}/option-removals",
                {"option": "reserved_ip", "effective_on": "2027-03-10", "notice_on": "2026-11-24"},
            )
            for _ in range(4)
        )
    )
    assert Counter(r.status_code for r in removals) == {200: 1, 409: 3}
    (charge,) = await _charges(live, contract_id, "early-termination")
    assert charge.amount == 2 * 80_000
