"""Worked examples D and H through the API (R-CHG-5, R-LC-7, R-TERM-3)."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.charges.models import Charge
from tests.support.factories import EXAMPLE_B, activate, apply, create_customer


async def _example_b(client: httpx.AsyncClient, admin: dict[str, str]) -> str:
    customer = await create_customer(client, admin)
    contract = await apply(client, admin, customer["id"], **EXAMPLE_B)
    active = await activate(client, admin, contract)
    assert active["term"]["end_on"] == "2027-05-20"
    return str(contract["id"])


async def test_example_d_early_termination(client: httpx.AsyncClient, admin: dict[str, str]):
    contract_id = await _example_b(client, admin)
    late = await client.post(
        f"/v1/contracts/{contract_id}/terminations",
        json={
            "reason": "contractor_request",
            "effective_on": "2026-12-10",
            "notice_on": "2026-09-11",
        },
        headers=admin,
    )
    assert late.status_code == 422, late.text
    assert late.json()["code"] == "notice_too_late"
    assert late.json()["earliest_effective_on"] == "2026-12-11"
    quote = await client.get(
        f"/v1/contracts/{contract_id}/termination-quote",
        params={"effective_on": "2026-12-10", "notice_on": "2026-09-10"},
        headers=admin,
    )
    assert quote.json()["allowed"] is True, quote.text
    assert quote.json()["months"] == 5
    assert quote.json()["early_termination_charge"] == 2_506_000
    done = await client.post(
        f"/v1/contracts/{contract_id}/terminations",
        json={
            "reason": "contractor_request",
            "effective_on": "2026-12-10",
            "notice_on": "2026-09-10",
        },
        headers=admin,
    )
    assert done.status_code == 200, done.text
    assert done.json()["termination"]["effective_on"] == "2026-12-10"
    ledger = (await client.get(f"/v1/contracts/{contract_id}/charges", headers=admin)).json()
    early = [c for c in ledger["items"] if c["item"] == "early-termination"]
    assert [(c["amount"], c["taxable"], c["month"]) for c in early] == [
        (2_506_000, False, "2026-12")
    ]


async def test_example_h_licence_decrease(
    client: httpx.AsyncClient, admin: dict[str, str], session: AsyncSession
):
    contract_id = await _example_b(client, admin)
    change = await client.post(
        f"/v1/contracts/{contract_id}/license-changes",
        json={"license_ids": 60, "effective_on": "2026-12-10", "notice_on": "2026-09-10"},
        headers=admin,
    )
    assert change.status_code == 201, change.text
    assert change.json()["early_termination_charge"] == 678_000
    history = await client.get(f"/v1/contracts/{contract_id}/license-changes", headers=admin)
    assert [c["license_ids"] for c in history.json()["items"]] == [60]
    # R-LC-7 + R-CHG-5: the partial charge is in the ledger for December, non-taxable,
    # unbilled, recorded once for that licence change.
    ledger = (await client.get(f"/v1/contracts/{contract_id}/charges", headers=admin)).json()
    early = [c for c in ledger["items"] if c["item"] == "early-termination"]
    assert [(c["amount"], c["taxable"], c["month"], c["rule"], c["invoice_id"]) for c in early] == [
        (678_000, False, "2026-12", "R-CHG-5", None)
    ]
    assert (early[0]["quantity"], early[0]["unit_price"]) == (5, 6 * (21_600 + 1_000))
    sources = await session.scalars(select(Charge.source).where(Charge.id == early[0]["id"]))
    assert sources.all() == [f"licence-change:{change.json()['id']}"]
