"""Bill runs asked for over the API are carried out by a worker (issue 12 §5)."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.jobs import Job
from app.events.models import Event
from tests.invoices.billing_steps import active_contract, start_run
from tests.support.worker import work_off

Headers = dict[str, str]


async def _run(client: httpx.AsyncClient, headers: Headers, run_id: str) -> dict[str, Any]:
    response = await client.get(f"/v1/billing-runs/{run_id}", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_run_waits_queued_until_a_worker_carries_it_out(
    client: httpx.AsyncClient, admin: Headers, session: AsyncSession
) -> None:
    await active_contract(client, admin)
    started = await start_run(client, admin, "2026-06")
    assert started.status_code == 202, started.text
    run_id = started.json()["id"]
    assert (started.json()["status"], started.json()["finished_at"]) == ("queued", None)
    assert (await _run(client, admin, run_id))["status"] == "queued"
    job = (await session.scalars(select(Job).where(Job.key == run_id))).one()
    assert (job.kind, job.state) == ("bill_run", "queued")

    assert await work_off(client) == 1
    run = await _run(client, admin, run_id)
    assert (run["status"], run["invoices_created"], run["invoices_existing"]) == (
        "finished",
        1,
        0,
    )
    await session.refresh(job)
    assert (job.state, job.attempts, job.leased_until) == ("done", 1, None)


async def test_the_end_of_a_run_is_the_billing_run_finished_event(
    client: httpx.AsyncClient, admin: Headers, session: AsyncSession
) -> None:
    await active_contract(client, admin)
    run_id = (await start_run(client, admin, "2026-06")).json()["id"]
    assert not (
        await session.scalars(select(Event).where(Event.type == "billing_run.finished"))
    ).all()
    await work_off(client)
    (event,) = (
        await session.scalars(select(Event).where(Event.type == "billing_run.finished"))
    ).all()
    assert (event.resource_type, event.resource_id, event.customer_id) == (
        "billing_run",
        run_id,
        None,
    )
    # The run as its GET returns it, at the end.
    assert event.data == await _run(client, admin, run_id)


async def test_a_month_with_a_run_queued_answers_that_run_instead_of_another(
    client: httpx.AsyncClient, admin: Headers, session: AsyncSession
) -> None:
    await active_contract(client, admin)
    first = await start_run(client, admin, "2026-06")
    again = await start_run(client, admin, "2026-06")
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["location"] == f"/v1/billing-runs/{first.json()['id']}"
    # A dry run is another run; another month too.
    dry = await start_run(client, admin, "2026-06", dry_run=True)
    july = await start_run(client, admin, "2026-07")
    assert (dry.status_code, july.status_code) == (202, 202)
    assert len({first.json()["id"], dry.json()["id"], july.json()["id"]}) == 3
    assert await work_off(client) == 3
    # Once it has ended, the month may be run again (it finds everything invoiced).
    rerun = await start_run(client, admin, "2026-06")
    assert rerun.status_code == 202
    assert rerun.json()["id"] != first.json()["id"]
    await work_off(client)
    run = await _run(client, admin, rerun.json()["id"])
    assert (run["invoices_created"], run["invoices_existing"]) == (0, 1)


async def test_a_running_run_is_answered_too(
    client: httpx.AsyncClient, admin: Headers, session: AsyncSession
) -> None:
    await active_contract(client, admin)
    first = (await start_run(client, admin, "2026-06")).json()
    job = (await session.scalars(select(Job).where(Job.key == first["id"]))).one()
    job.state = "running"  # a worker holds it
    await session.commit()
    again = await start_run(client, admin, "2026-06")
    assert (again.status_code, again.json()["id"]) == (200, first["id"])
