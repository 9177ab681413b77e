"""POST /v1/contracts/{id}/cancellation: cancelling before the service starts (R-CHG-6,
Art. 9; worked example E: B with 200,000 of reported costs). The answer is
``{invoice, contract, credit_notes}``.
"""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import KeyFactory
from tests.contracts.changes_support import (
    B_FIELDS,
    Body,
    Headers,
    event_types,
    example_b,
    ledger,
    problem,
)
from tests.contracts.steps import accepted, onboarding
from tests.support.factories import EXAMPLE_B, create_customer

COSTS = [{"description": "調達済みソフトウェア", "amount": 200_000}]


async def _cancel(
    client: httpx.AsyncClient, headers: Headers, contract_id: str, **body: Any
) -> httpx.Response:
    return await client.post(
        f"/v1/contracts/{contract_id}/cancellation", json=body, headers=headers
    )


def _totals(invoice: Body) -> tuple[int, int, int, int]:
    return (
        sum(line["amount"] for line in invoice["lines"]),
        invoice["taxable_subtotal"],
        invoice["tax"],
        invoice["total"],
    )


async def test_example_e_cancellation_before_the_onboarding_start(
    client: httpx.AsyncClient, admin: Headers, session: AsyncSession
) -> None:
    """1,000,000 + 350,000 + 200,000 = 1,550,000, tax 155,000, total 1,705,000."""
    customer = await create_customer(client, admin)
    contract = await accepted(client, admin, customer["id"], **EXAMPLE_B)
    response = await _cancel(
        client, admin, contract["id"], cancelled_on="2026-05-10", actual_costs=COSTS
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"invoice", "contract", "credit_notes"}
    invoice = body["invoice"]
    assert _totals(invoice) == (1_550_000, 1_550_000, 155_000, 1_705_000)
    assert invoice["non_taxable_subtotal"] == 0
    assert invoice["kind"] == "cancellation"
    assert {line["item"] for line in invoice["lines"]} == {"cancellation"}
    assert all(line["taxable"] for line in invoice["lines"])
    assert sorted(line["amount"] for line in invoice["lines"]) == [200_000, 350_000, 1_000_000]
    assert body["contract"]["status"] == "cancelled"
    assert body["credit_notes"] == []
    # The ledger records the fee, billed by that invoice.
    charges = await ledger(client, contract["id"], admin)
    assert sorted(c["amount"] for c in charges) == [200_000, 350_000, 1_000_000]
    assert {(c["kind"], c["rule"], c["invoice_id"]) for c in charges} == {
        ("cancellation", "R-CHG-6", invoice["id"])
    }
    assert (await event_types(session, contract["id"]))[-1] == "contract.cancelled"
    fetched = await client.get(f"/v1/invoices/{invoice['id']}", headers=admin)
    assert fetched.status_code == 200, fetched.text
    assert fetched.json()["total"] == 1_705_000


async def test_example_e_cancellation_after_the_onboarding_start_adds_twelve_months(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    """+ 12 × 501,200: 7,564,400, tax 756,440, total 8,320,840."""
    customer = await create_customer(client, admin)
    contract = await onboarding(client, admin, customer["id"], **B_FIELDS)
    assert contract["status"] == "onboarding"
    response = await _cancel(
        client, admin, contract["id"], cancelled_on="2026-11-01", actual_costs=COSTS
    )
    assert response.status_code == 200, response.text
    invoice = response.json()["invoice"]
    assert _totals(invoice) == (7_564_400, 7_564_400, 756_440, 8_320_840)
    assert 12 * 501_200 in [line["amount"] for line in invoice["lines"]]
    assert response.json()["contract"]["status"] == "cancelled"


async def test_r_chg_6_a_cancellation_dated_before_the_onboarding_start_is_priced_before_it(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    """Back-filled: onboarding started 2026-05-20, cancelled on 2026-05-15."""
    customer = await create_customer(client, admin)
    contract = await onboarding(client, admin, customer["id"], **B_FIELDS)
    response = await _cancel(
        client, admin, contract["id"], cancelled_on="2026-05-15", actual_costs=COSTS
    )
    assert response.status_code == 200, response.text
    assert _totals(response.json()["invoice"])[0] == 1_550_000


async def test_r_chg_6_not_at_fault_there_is_no_fee(
    client: httpx.AsyncClient, admin: Headers, session: AsyncSession
) -> None:
    customer = await create_customer(client, admin)
    contract = await onboarding(client, admin, customer["id"], **B_FIELDS)
    response = await _cancel(
        client,
        admin,
        contract["id"],
        cancelled_on="2026-11-01",
        contractor_at_fault=False,
        actual_costs=COSTS,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["invoice"] is None
    assert body["credit_notes"] == []  # nothing was paid
    assert body["contract"]["status"] == "cancelled"
    assert await ledger(client, contract["id"], admin) == []
    listed = await client.get("/v1/invoices", params={"contract_id": contract["id"]}, headers=admin)
    assert listed.status_code == 200, listed.text
    assert listed.json()["items"] == []
    assert (await event_types(session, contract["id"]))[-1] == "contract.cancelled"


async def test_r_lc_10_an_active_contract_cannot_be_cancelled(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    contract = await example_b(client, admin)
    body = problem(
        await _cancel(client, admin, contract["id"], cancelled_on="2026-11-01"),
        409,
        "invalid_transition",
    )
    assert body["current_status"] == "active"
    assert await ledger(client, contract, admin) == []


async def test_r_chg_6_a_cancellation_before_the_acceptance_is_refused(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    """accepted_on is received_on, 2026-05-01."""
    customer = await create_customer(client, admin)
    contract = await accepted(client, admin, customer["id"], **EXAMPLE_B)
    body = problem(
        await _cancel(client, admin, contract["id"], cancelled_on="2026-04-30"),
        422,
        "date_out_of_order",
    )
    assert body["earliest_allowed"] == "2026-05-01"
    problem(
        await _cancel(client, admin, contract["id"], cancelled_on="2026-11-25"),
        422,
        "date_in_future",
    )
    assert await ledger(client, contract["id"], admin) == []


async def test_a_cancelled_contract_cannot_be_cancelled_again(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    customer = await create_customer(client, admin)
    contract = await accepted(client, admin, customer["id"])
    first = await _cancel(client, admin, contract["id"], cancelled_on="2026-05-10")
    assert first.status_code == 200, first.text
    # Example A's fee: simple onboarding only, 550,000 + tax.
    assert _totals(first.json()["invoice"]) == (550_000, 550_000, 55_000, 605_000)
    body = problem(
        await _cancel(client, admin, contract["id"], cancelled_on="2026-05-10"),
        409,
        "invalid_transition",
    )
    assert body["current_status"] == "cancelled"


async def test_only_operators_cancel(
    client: httpx.AsyncClient, admin: Headers, make_key: KeyFactory
) -> None:
    customer = await create_customer(client, admin)
    contract = await accepted(client, admin, customer["id"])
    for role in ("crm", "partner"):
        problem(
            await _cancel(client, await make_key(role), contract["id"], cancelled_on="2026-05-10"),
            403,
            "forbidden",
        )
    portal = await make_key("portal", customer_id=customer["id"])
    problem(
        await _cancel(client, portal, contract["id"], cancelled_on="2026-05-10"),
        403,
        "forbidden",
    )
