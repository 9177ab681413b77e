"""GET /v1/contracts answers each contract as GET /v1/contracts/{id} does (issue 11).

The list is serialised from the read model's plain values, without building the model:
these tests hold it to the model's JSON, for contracts in every part of their life
(applied, rejected, active with licence and option history and an inspection, with a
scheduled non-renewal), on a day inside a term and on a later one."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx

from app.contracts.schemas import ContractRead
from app.core.clock import FixedClock
from app.core.pagination import Page
from tests.contracts.steps import at
from tests.support.factories import EXAMPLE_B, activate, apply, create_customer, post_ok

Headers = dict[str, str]


async def _contracts_in_every_state(
    client: httpx.AsyncClient, admin: Headers, clock: FixedClock
) -> list[str]:
    at(clock, date(2026, 5, 1))
    customer = await create_customer(client, admin)
    applied = await apply(client, admin, customer["id"])
    rejected = await apply(client, admin, customer["id"])
    await post_ok(
        client,
        f"/v1/contracts/{rejected['id']}/reject",
        admin,
        {"reason": "payment_risk", "notice": "与信審査の結果、お受けできません。"},
    )
    active = await activate(client, admin, await apply(client, admin, customer["id"], **EXAMPLE_B))
    at(clock, date(2026, 11, 24))
    base = f"/v1/contracts/{active['id']}"
    for month, licences in ((7, 130), (9, 150)):
        body = {"effective_on": f"2026-{month:02d}-01", "license_ids": licences}
        await post_ok(client, f"{base}/license-changes", admin, body)
    ending = await activate(client, admin, await apply(client, admin, customer["id"]))
    response = await client.post(
        f"/v1/contracts/{ending['id']}/terminations",
        json={"reason": "non_renewal", "effective_on": "2027-05-20", "notice_on": "2026-11-24"},
        headers=admin,
    )
    assert response.status_code == 200, response.text
    return [applied["id"], rejected["id"], active["id"], ending["id"]]


async def _listed(client: httpx.AsyncClient, admin: Headers) -> dict[str, Any]:
    response = await client.get("/v1/contracts", params={"limit": 50}, headers=admin)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_the_list_shows_each_contract_as_its_get_does(
    client: httpx.AsyncClient, admin: Headers, clock: FixedClock
) -> None:
    ids = await _contracts_in_every_state(client, admin, clock)
    for day in (date(2026, 11, 24), date(2027, 6, 1)):
        at(clock, day)
        page = await _listed(client, admin)
        assert Page[ContractRead].model_validate(page).model_dump(mode="json") == page
        items = {item["id"]: item for item in page["items"]}
        assert set(ids) <= set(items)
        for contract_id in ids:
            got = await client.get(f"/v1/contracts/{contract_id}", headers=admin)
            assert got.json() == items[contract_id], (day, contract_id)
            assert ContractRead.model_validate(got.json()).model_dump(mode="json") == got.json()
        statuses = {items[i]["status"] for i in ids}
        assert {"applied", "rejected", "active"} <= statuses


async def test_a_read_after_a_change_shows_it_though_renders_are_kept(
    client: httpx.AsyncClient, admin: Headers, clock: FixedClock
) -> None:
    """The reads keep their renders by row and day: a change to the contract's history
    (a milestone, a licence change) and the next day each show at once."""
    at(clock, date(2026, 5, 1))
    customer = await create_customer(client, admin)

    async def read(contract_id: str) -> dict[str, Any]:
        path = f"/v1/contracts/{contract_id}"
        first: dict[str, Any] = (await client.get(path, headers=admin)).json()
        again = (await client.get(path, headers=admin)).json()  # from the kept render
        assert first == again
        listed = (await _listed(client, admin))["items"]
        assert [c for c in listed if c["id"] == contract_id] == [first]
        return first

    onboarding = await apply(client, admin, customer["id"])
    base = f"/v1/contracts/{onboarding['id']}"
    assert (await read(onboarding["id"]))["status"] == "applied"
    await post_ok(client, f"{base}/accept", admin, {"out_of_order_reason": "test setup"})
    await post_ok(client, f"{base}/onboarding/start", admin, {"started_on": "2026-05-20"})
    key = (await read(onboarding["id"]))["onboarding"]["milestones"][0]["key"]
    await post_ok(client, f"{base}/onboarding/milestones/{key}", admin, {"done_on": "2026-05-21"})
    after = await read(onboarding["id"])
    assert after["onboarding"]["milestones"][0] == {"key": key, "done_on": "2026-05-21"}

    active = await activate(client, admin, await apply(client, admin, customer["id"]))
    assert (await read(active["id"]))["license_ids"] == active["license_ids"] == 50
    at(clock, date(2026, 11, 24))
    body = {"effective_on": "2026-12-01", "license_ids": 80}
    await post_ok(client, f"/v1/contracts/{active['id']}/license-changes", admin, body)
    assert (await read(active["id"]))["license_ids"] == 50
    at(clock, date(2026, 12, 1))
    assert (await read(active["id"]))["license_ids"] == 80
