"""From application to active, the happy path, with worked examples A and C."""

from __future__ import annotations

import httpx

from tests.support.factories import EXAMPLE_B, activate, apply, create_customer


async def test_example_a_runs_from_application_to_active(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    customer = await create_customer(client, admin)
    contract = await apply(client, admin, customer["id"])
    assert contract["status"] == "applied"
    assert contract["monthly_charge"] == 93_000
    active = await activate(client, admin, contract)
    assert active["status"] == "active"
    assert active["service_start_on"] == "2026-06-15"
    # Worked example C: onboarding starts 2026-05-20, completes 2026-06-15.
    assert active["term"]["start_on"] == "2026-06-15"
    assert active["onboarding"]["warranty_until"] == "2026-09-15"
    assert active["liability_cap"] == 93_000
    events = (await client.get(f"/v1/contracts/{contract['id']}/events", headers=admin)).json()
    types = [e["type"] for e in reversed(events["items"])]
    assert types[:3] == ["contract.applied", "contract.accepted", "contract.onboarding_started"]
    assert types[-1] == "contract.activated"


async def test_example_b_monthly_charge(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    customer = await create_customer(client, admin)
    contract = await apply(client, admin, customer["id"], **EXAMPLE_B)
    assert contract["monthly_charge"] == 501_200


async def test_contract_get_carries_an_etag_that_changes_with_the_contract(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    customer = await create_customer(client, admin)
    contract = await apply(client, admin, customer["id"])
    first = await client.get(f"/v1/contracts/{contract['id']}", headers=admin)
    await client.post(
        f"/v1/contracts/{contract['id']}/accept", json={"out_of_order_reason": "t"}, headers=admin
    )
    second = await client.get(f"/v1/contracts/{contract['id']}", headers=admin)
    assert first.headers["etag"] == f'"{contract["id"]}.v1"'
    assert second.headers["etag"] == f'"{contract["id"]}.v2"'
