"""Issue 15: a sandbox clock integrators move forward, watching renewals, terminations,
bills and overdue invoices happen; off, nothing can move time."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError

from app.core import jobs
from app.core.clock import Clock, FixedClock
from app.core.database import Database
from app.core.errors import Conflict
from app.core.settings import Settings
from app.main import create_app
from app.sandbox.advance import daily_roll, scheduled_bill_run
from app.worker.runner import Worker
from app.worker.tasks import DAILY_ROLL, schedule_daily_roll
from tests.support.databases import BoundDatabase
from tests.support.factories import activate, apply, create_customer, post_ok

Headers = dict[str, str]
REAL_TODAY = date(2026, 6, 15)
CLOCK = "/v1/sandbox/clock"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock.on(REAL_TODAY)


def sandbox_app(settings: Settings, database: BoundDatabase, clock: FixedClock) -> FastAPI:
    return create_app(settings.model_copy(update={"sandbox": True}), database=database, clock=clock)


@pytest.fixture
def app(settings: Settings, database: BoundDatabase, clock: FixedClock) -> FastAPI:
    return sandbox_app(settings, database, clock)


async def _client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://scms.test") as client:
        yield client


async def move(client: httpx.AsyncClient, admin: Headers, today: str) -> dict[str, Any]:
    response = await client.put(CLOCK, json={"today": today}, headers=admin)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _running(client: httpx.AsyncClient, admin: Headers, **overrides: Any) -> dict[str, Any]:
    customer = await create_customer(client, admin)
    contract = await apply(client, admin, customer["id"], **overrides)
    return await activate(client, admin, contract)


async def test_issue_15_reading_the_clock(client: httpx.AsyncClient, admin: Headers) -> None:
    response = await client.get(CLOCK, headers=admin)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["today"], body["offset_days"]) == ("2026-06-15", 0)
    assert body["now"] == body["real_now"]


async def test_issue_15_a_year_on_renewals_terminations_bills_and_overdue_invoices(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    """Over a term end and thirteen month ends: the renewal, the termination, every
    month's invoice on its scheduled day, and an unpaid one overdue with its late charge."""
    renewing = await _running(client, admin)
    ending = await _running(client, admin)
    await post_ok(
        client,
        f"/v1/contracts/{ending['id']}/terminations",
        admin,
        {"reason": "contractor_request", "effective_on": "2026-12-31", "notice_on": "2026-06-15"},
    )
    moved = await move(client, admin, "2027-07-02")
    assert (moved["today"], moved["offset_days"]) == ("2027-07-02", 382)
    assert moved["now"] > moved["real_now"]
    happened = moved["happened"]
    assert happened["days"] == 382
    assert happened["renewals"] == 1
    assert happened["terminations"] == 1
    # 2026-06 … 2027-06, each on its scheduled issue day (the 1st of the next month).
    assert happened["billing_runs"] == 13
    # renewing: June 2026 … June 2027 (13); ending: June … December 2026 (7).
    assert happened["invoices_issued"] == 20

    history = await client.get(f"/v1/contracts/{renewing['id']}/events", headers=admin)
    assert "contract.renewed" in [e["type"] for e in history.json()["items"]]
    ended = await client.get(f"/v1/contracts/{ending['id']}", headers=admin)
    assert ended.json()["status"] == "terminated"

    runs = (await client.get("/v1/billing-runs", headers=admin)).json()["items"]
    issued = {run["month"]: run["issued_on"] for run in runs}
    assert issued["2026-06"] == "2026-07-01"
    assert issued["2027-06"] == "2027-07-01"
    assert all(not run["late"] for run in runs)

    invoices = await client.get(
        "/v1/invoices", params={"contract_id": renewing["id"], "month": "2026-06"}, headers=admin
    )
    (june,) = invoices.json()["items"]
    assert june["status"] == "overdue"  # due 2026-07-31, a year unpaid
    late = await client.get(f"/v1/invoices/{june['id']}/late-charge", headers=admin)
    assert late.status_code == 200, late.text
    assert late.json()["days"] > 300
    assert late.json()["amount"] > 0
    # "Not in the future" reads the moved today: a payment dated today is taken.
    paid = await client.post(
        f"/v1/invoices/{june['id']}/payments",
        json={"paid_on": "2027-07-02", "amount": june["total"]},
        headers=admin,
    )
    assert paid.status_code == 201, paid.text


async def test_issue_15_the_outbox_lag_is_measured_on_the_moved_clock(
    client: httpx.AsyncClient, admin: Headers, clock: FixedClock
) -> None:
    """/metrics' outbox lag compares the events' occurred_at, written on the sandbox's
    moved clock, with the same clock: on the real one an event 14 days ahead read 0."""
    await move(client, admin, "2026-06-29")  # no month end on the way: no bill run's events
    await create_customer(client, admin)  # customer.created, undelivered: no worker runs
    clock.instant += timedelta(seconds=42)
    text = (await client.get("/metrics")).text
    match = re.search(r"^scms_outbox_lag_seconds (\S+)$", text, re.MULTILINE)
    assert match, text
    assert float(match.group(1)) == 42.0


async def test_issue_15_the_clock_never_goes_back(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    await move(client, admin, "2026-07-01")
    back = await client.put(CLOCK, json={"today": "2026-06-30"}, headers=admin)
    assert back.status_code == 422, back.text
    problem = back.json()
    assert problem["code"] == "sandbox_clock_backwards"
    assert problem["today"] == "2026-07-01"
    assert "2026-07-01" in problem["detail"]
    same = await move(client, admin, "2026-07-01")
    assert same["happened"]["days"] == 0
    assert same["offset_days"] == 16


async def test_issue_15_only_an_admin_moves_the_clock(
    client: httpx.AsyncClient, admin: Headers, make_key: Any
) -> None:
    for role in ("operator", "crm", "partner"):
        headers = await make_key(role)
        assert (await client.get(CLOCK, headers=headers)).status_code == 200
        refused = await client.put(CLOCK, json={"today": "2026-07-01"}, headers=headers)
        assert refused.status_code == 403, refused.text
    assert (await client.get(CLOCK, headers=admin)).json()["offset_days"] == 0


async def test_issue_15_two_api_processes_agree_on_the_moved_date(
    client: httpx.AsyncClient,
    admin: Headers,
    settings: Settings,
    database: BoundDatabase,
    clock: FixedClock,
) -> None:
    """A second application on the same database (as a second API process) reads the
    offset the first stored: no state lives in a process."""
    await move(client, admin, "2026-09-01")
    async for other in _client(sandbox_app(settings, database, clock)):
        body = (await other.get(CLOCK, headers=admin)).json()
        assert (body["today"], body["offset_days"]) == ("2026-09-01", 78)


async def test_issue_15_a_failure_on_the_way_stops_on_the_last_finished_day(
    app: FastAPI, client: httpx.AsyncClient, admin: Headers
) -> None:
    calls: Counter[date] = Counter()

    async def fails_on_the_4th(
        database: Database, day: date, clock: Clock, settings: Settings
    ) -> Counter[str]:
        calls[day] += 1
        if day == date(2026, 7, 4) and calls[day] == 1:
            raise Conflict("the partner system was down", code="step_failed")
        return Counter()

    await _running(client, admin)
    app.state.sandbox_day_steps = (daily_roll, scheduled_bill_run, fails_on_the_4th)
    failed = await client.put(CLOCK, json={"today": "2026-07-10"}, headers=admin)
    assert failed.status_code == 409, failed.text
    assert failed.json()["code"] == "step_failed"
    now = (await client.get(CLOCK, headers=admin)).json()
    assert now["today"] == "2026-07-03"  # June's bill run (the 1st) is done, the 4th is not
    runs = (await client.get("/v1/billing-runs", headers=admin)).json()["items"]
    assert [run["month"] for run in runs] == ["2026-06"]
    again = await move(client, admin, "2026-07-10")
    assert again["happened"]["days"] == 7  # the 4th again, then on to the 10th
    assert again["happened"]["billing_runs"] == 0  # June is not billed twice
    assert calls[date(2026, 7, 4)] == 2


async def test_issue_15_off_the_sandbox_answers_404_and_time_stands(
    settings: Settings, database: BoundDatabase, clock: FixedClock, admin: Headers
) -> None:
    async for client in _client(create_app(settings, database=database, clock=clock)):
        for response in (
            await client.get(CLOCK, headers=admin),
            await client.put(CLOCK, json={"today": "2027-01-01"}, headers=admin),
        ):
            assert response.status_code == 404, response.text
            assert response.json()["code"] == "sandbox_off"
        ready = await client.get("/readyz")
        assert ready.json()["checks"]["sandbox"] == "off"
    async for client in _client(sandbox_app(settings, database, clock)):
        # A sandbox reads no move made while off: there was none.
        assert (await client.get(CLOCK, headers=admin)).json()["offset_days"] == 0
        assert (await client.get("/readyz")).json()["checks"]["sandbox"] == "on"


def test_issue_15_production_refuses_the_sandbox() -> None:
    with pytest.raises(ValidationError, match="SCMS_SANDBOX"):
        Settings(env="production", sandbox=True, issuer_registration_number="T7000012050002")
    assert not Settings(env="production", issuer_registration_number="T7000012050002").sandbox


async def test_issue_15_the_worker_reads_the_moved_date(
    app: FastAPI, client: httpx.AsyncClient, admin: Headers
) -> None:
    """A bill run asked for over the API in a moved sandbox is queued in sandbox time and
    carried out by a worker that follows the same clock; its daily roll is keyed by it."""
    await _running(client, admin)
    await move(client, admin, "2026-07-20")  # June billed on the 1st already
    worker = Worker(app.state.database, app.state.settings, app.state.clock, periodic=())
    assert worker.following is not None
    await worker.following.follow(app.state.database)
    assert worker.clock.today() == date(2026, 7, 20)
    await move(client, admin, "2026-08-01")
    started = await client.post(
        "/v1/billing-runs", json={"month": "2026-07", "dry_run": True}, headers=admin
    )
    assert started.status_code == 202, started.text
    await worker.following.follow(app.state.database)
    assert await worker.run_one_job()
    run = await client.get(f"/v1/billing-runs/{started.json()['id']}", headers=admin)
    assert run.json()["status"] == "finished", run.text
    assert await schedule_daily_roll(app.state.database, app.state.settings, worker.clock) == 1
    async with app.state.database.sessionmaker() as session:
        assert await jobs.find(session, kind=DAILY_ROLL, key="2026-08-01") is not None
