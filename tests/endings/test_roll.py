"""The daily roll (R-TERM-2, R-TERM-4): renewals and passed terminations recorded once,
against a live database (app.endings.rolling.roll and ``scms contracts roll --as-of``).

Renewal dates across 29 February (example C): onboarding starting 2027-02-28 gives a
first term ending 2028-02-29, then 2029-02-28, 2030-02-28, 2031-02-28, 2032-02-29,
2033-02-28; each renewal starts the day after the previous end.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from app.cli.main import app as cli
from app.contracts.models import Contract, ContractEvent
from app.core.clock import FixedClock
from app.core.settings import get_settings
from app.endings.rolling import RollResult, roll
from tests.contracts.steps import at
from tests.support.factories import EXAMPLE_B, activate, apply, create_customer
from tests.support.live import LiveApp, live_app


@pytest.fixture
async def live(db_kind: str, tmp_path: Path, clock: FixedClock) -> AsyncIterator[LiveApp]:
    async with live_app(db_kind, tmp_path, clock) as app:
        yield app


async def _leap_contract(live: LiveApp, clock: FixedClock) -> dict[str, Any]:
    """A contract whose onboarding starts 2027-02-28 and completes 2027-03-10."""
    at(clock, date(2027, 3, 15))
    customer = await create_customer(live.client, live.admin)
    contract = await apply(
        live.client,
        live.admin,
        customer["id"],
        received_on="2027-02-01",
        planned_installation_on="2027-03-01",
    )
    active = await activate(
        live.client,
        live.admin,
        contract,
        started_on=date(2027, 2, 28),
        completed_on=date(2027, 3, 10),
    )
    assert active["term"]["end_on"] == "2028-02-29"
    return active


async def _b(live: LiveApp) -> dict[str, Any]:
    """Example B (term end 2027-05-20), with the clock at 2026-11-24."""
    customer = await create_customer(live.client, live.admin)
    contract = await apply(live.client, live.admin, customer["id"], **EXAMPLE_B)
    return await activate(live.client, live.admin, contract)


async def _events(live: LiveApp, contract_id: str, kind: str) -> list[ContractEvent]:
    async with live.database.sessionmaker() as session:
        rows = await session.scalars(
            select(ContractEvent)
            .where(ContractEvent.contract_id == contract_id, ContractEvent.type == kind)
            .order_by(ContractEvent.business_date)
        )
        return list(rows.all())


async def _stored_status(live: LiveApp, contract_id: str) -> str:
    async with live.database.sessionmaker() as session:
        status = await session.scalar(select(Contract.status).where(Contract.id == contract_id))
        assert status is not None
        return status


async def _renewals(live: LiveApp, contract_id: str) -> list[tuple[date, int, str, str]]:
    return [
        (
            e.business_date,
            e.payload["renewal"],
            e.payload["term_start_on"],
            e.payload["term_end_on"],
        )
        for e in await _events(live, contract_id, "contract.renewed")
    ]


async def test_r_term_2_renewals_across_29_february_are_recorded_once(
    live: LiveApp, clock: FixedClock
) -> None:
    contract = await _leap_contract(live, clock)
    assert await roll(live.database, date(2028, 2, 29), clock) == RollResult(1, 0, 0)
    assert await _renewals(live, contract["id"]) == []
    # The first renewed term begins 2028-03-01 and ends 2029-02-28.
    assert await roll(live.database, date(2029, 2, 28), clock) == RollResult(1, 1, 0)
    assert await _renewals(live, contract["id"]) == [
        (date(2028, 3, 1), 1, "2028-03-01", "2029-02-28"),
    ]
    # Run again, or a day later: only what is new is recorded.
    assert await roll(live.database, date(2029, 2, 28), clock) == RollResult(1, 0, 0)
    assert await roll(live.database, date(2029, 3, 1), clock) == RollResult(1, 1, 0)
    assert await roll(live.database, date(2029, 3, 1), clock) == RollResult(1, 0, 0)
    assert await _renewals(live, contract["id"]) == [
        (date(2028, 3, 1), 1, "2028-03-01", "2029-02-28"),
        (date(2029, 3, 1), 2, "2029-03-01", "2030-02-28"),
    ]
    # A late roll catches up on every year it missed.
    assert await roll(live.database, date(2032, 3, 1), clock) == RollResult(1, 3, 0)
    assert (await _renewals(live, contract["id"]))[2:] == [
        (date(2030, 3, 1), 3, "2030-03-01", "2031-02-28"),
        (date(2031, 3, 1), 4, "2031-03-01", "2032-02-29"),
        (date(2032, 3, 1), 5, "2032-03-01", "2033-02-28"),
    ]
    # The read model derives the same term from the dates alone.
    at(clock, date(2032, 3, 1))
    read = (await live.client.get(f"/v1/contracts/{contract['id']}", headers=live.admin)).json()
    assert read["term"] == {
        "start_on": "2032-03-01",
        "end_on": "2033-02-28",
        "notice_deadline": "2032-11-28",
        "renewals": 5,
    }
    assert await _stored_status(live, contract["id"]) == "active"


async def test_r_term_2_a_non_renewal_at_the_term_end_stops_the_renewals(
    live: LiveApp, clock: FixedClock
) -> None:
    contract = await _b(live)
    response = await live.client.post(
        f"/v1/contracts/{contract['id']}/terminations",
        json={"reason": "non_renewal", "effective_on": "2027-05-20", "notice_on": "2026-11-24"},
        headers=live.admin,
    )
    assert response.status_code == 200, response.text
    assert await roll(live.database, date(2027, 5, 20), clock) == RollResult(1, 0, 0)
    assert await _stored_status(live, contract["id"]) == "active"
    assert await roll(live.database, date(2029, 6, 1), clock) == RollResult(1, 0, 1)
    assert await _renewals(live, contract["id"]) == []
    (terminated,) = await _events(live, contract["id"], "contract.terminated")
    assert terminated.business_date == date(2027, 5, 20)
    assert terminated.payload == {"reason": "non_renewal"}
    assert await _stored_status(live, contract["id"]) == "terminated"
    # A terminated contract is not rolled again.
    assert await roll(live.database, date(2029, 6, 1), clock) == RollResult(0, 0, 0)
    assert len(await _events(live, contract["id"], "contract.terminated")) == 1


async def test_r_term_4_a_passed_termination_is_recorded_once(
    live: LiveApp, clock: FixedClock
) -> None:
    contract = await _b(live)
    response = await live.client.post(
        f"/v1/contracts/{contract['id']}/terminations",
        json={
            "reason": "contractor_request",
            "effective_on": "2026-12-10",
            "notice_on": "2026-09-10",
        },
        headers=live.admin,
    )
    assert response.status_code == 200, response.text
    assert await roll(live.database, date(2026, 12, 10), clock) == RollResult(1, 0, 0)
    assert await _stored_status(live, contract["id"]) == "active"
    assert await roll(live.database, date(2026, 12, 11), clock) == RollResult(1, 0, 1)
    assert await _stored_status(live, contract["id"]) == "terminated"
    assert await roll(live.database, date(2026, 12, 11), clock) == RollResult(0, 0, 0)
    (terminated,) = await _events(live, contract["id"], "contract.terminated")
    assert terminated.business_date == date(2026, 12, 10)
    assert terminated.actor_key_id == "system:roll"
    # A termination inside a renewed term: the renewal before it is recorded, none after.
    other = await _b(live)
    at(clock, date(2027, 9, 1))
    later = await live.client.post(
        f"/v1/contracts/{other['id']}/terminations",
        json={"reason": "service_discontinued", "effective_on": "2027-09-30"},
        headers=live.admin,
    )
    assert later.status_code == 200, later.text
    assert await roll(live.database, date(2030, 1, 1), clock) == RollResult(1, 1, 1)
    assert await _renewals(live, other["id"]) == [
        (date(2027, 5, 21), 1, "2027-05-21", "2028-05-20")
    ]


async def test_the_roll_command_records_renewals_as_of_a_date(
    live: LiveApp, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    contract = await _leap_contract(live, clock)
    monkeypatch.setenv("SCMS_DATABASE_URL", live.database.url)
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        first = await asyncio.to_thread(
            runner.invoke, cli, ["contracts", "roll", "--as-of", "2028-03-01"]
        )
        assert first.exit_code == 0, first.output
        assert "2028-03-01" in first.output
        again = await asyncio.to_thread(
            runner.invoke, cli, ["contracts", "roll", "--as-of", "2028-03-01"]
        )
        assert again.exit_code == 0, again.output
        bad = await asyncio.to_thread(
            runner.invoke, cli, ["contracts", "roll", "--as-of", "2028-02-30"]
        )
        assert bad.exit_code != 0
    finally:
        get_settings.cache_clear()
    assert await _renewals(live, contract["id"]) == [
        (date(2028, 3, 1), 1, "2028-03-01", "2029-02-28")
    ]
