"""Steps the bill-run tests share: contracts of the worked examples, runs, previews."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.factories import EXAMPLE_B, activate, apply, create_customer
from tests.support.worker import work_off


async def active_contract(
    client: httpx.AsyncClient, headers: dict[str, str], **overrides: Any
) -> dict[str, Any]:
    """An active contract (worked example A unless overridden), service from 2026-06-15."""
    customer = await create_customer(client, headers)
    contract = await apply(client, headers, customer["id"], **overrides)
    return await activate(client, headers, contract)


async def example_b(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    return await active_contract(client, headers, **EXAMPLE_B)


async def start_run(
    client: httpx.AsyncClient, headers: dict[str, str], month: str, *, dry_run: bool = False
) -> httpx.Response:
    return await client.post(
        "/v1/billing-runs", json={"month": month, "dry_run": dry_run}, headers=headers
    )


async def run_month(
    client: httpx.AsyncClient, headers: dict[str, str], month: str, *, dry_run: bool = False
) -> dict[str, Any]:
    """Start a run and return it once a worker has carried it out."""
    response = await start_run(client, headers, month, dry_run=dry_run)
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "queued", response.text
    await work_off(client)
    run = await client.get(f"/v1/billing-runs/{response.json()['id']}", headers=headers)
    assert run.status_code == 200, run.text
    body: dict[str, Any] = run.json()
    assert body["status"] == "finished", body
    return body


async def preview(
    client: httpx.AsyncClient, headers: dict[str, str], contract_id: str, month: str
) -> dict[str, Any]:
    response = await client.get(
        f"/v1/contracts/{contract_id}/invoice-preview", params={"month": month}, headers=headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
