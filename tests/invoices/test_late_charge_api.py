"""GET /v1/invoices/{id}/late-charge?as_of= (R-CHG-7, worked example F): as of a date,
counting only the payments made up to it."""

from __future__ import annotations

from typing import Any

import httpx

from app.auth.roles import Role
from app.core.clock import FixedClock
from tests.conftest import KeyFactory
from tests.invoices.receivables_support import example_a_june, pay_ok
from tests.support.databases import BoundDatabase

Headers = dict[str, str]


async def late(
    client: httpx.AsyncClient, headers: Headers, invoice_id: str, as_of: str | None = None
) -> dict[str, Any]:
    params = {"as_of": as_of} if as_of else {}
    response = await client.get(
        f"/v1/invoices/{invoice_id}/late-charge", params=params, headers=headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_unpaid_within_ten_days_is_in_grace_r_chg_7(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase, clock: FixedClock
) -> None:
    _, invoice_id = await example_a_june(client, admin, database, clock)
    body = await late(client, admin, invoice_id, "2026-08-10")
    assert (body["amount"], body["in_grace"], body["waived"]) == (0, True, False)
    assert (body["due_on"], body["balance"], body["as_of"]) == ("2026-07-31", 707_300, "2026-08-10")
    assert (body["rule"], body["rate_percent"], body["recorded"]) == ("R-CHG-7", "14.5", None)


async def test_unpaid_on_the_eleventh_day_accrues_ten_days_r_chg_7(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase, clock: FixedClock
) -> None:
    _, invoice_id = await example_a_june(client, admin, database, clock)
    body = await late(client, admin, invoice_id, "2026-08-11")
    # What paying in full on 2026-08-11 would cost: 10 days on 707,300 → 2,809.
    assert (body["amount"], body["days"], body["in_grace"]) == (2_809, 10, False)
    assert body["segments"] == [
        {"from_on": "2026-08-01", "to_on": "2026-08-10", "balance": 707_300, "days": 10}
    ]


async def test_payments_after_as_of_are_not_counted_example_f(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase, clock: FixedClock
) -> None:
    _, invoice_id = await example_a_june(client, admin, database, clock)
    await pay_ok(client, admin, invoice_id, "2026-08-05", 300_000)
    await pay_ok(client, admin, invoice_id, "2026-09-15", 407_300)
    before_second = await late(client, admin, invoice_id, "2026-09-01")
    assert before_second["balance"] == 407_300
    # 4 days on 707,300 and 27 days (08-05 … 08-31) on 407,300.
    assert before_second["days"] == 31
    assert before_second["amount"] == (707_300 * 4 + 407_300 * 27) * 145 // (1000 * 365)
    settled = await late(client, admin, invoice_id)  # as of today: both payments
    assert (settled["amount"], settled["days"], settled["balance"]) == (7_757, 45, 0)
    assert settled["recorded"]["amount"] == 7_757
    assert [s["days"] for s in settled["segments"]] == [4, 41]


async def test_paid_within_grace_is_waived_example_f(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase, clock: FixedClock
) -> None:
    _, invoice_id = await example_a_june(client, admin, database, clock)
    await pay_ok(client, admin, invoice_id, "2026-08-10", 707_300)
    body = await late(client, admin, invoice_id)
    assert (body["amount"], body["waived"], body["recorded"]) == (0, True, None)


async def test_portal_reads_its_own_late_charge_and_partner_may_not(
    client: httpx.AsyncClient,
    admin: Headers,
    make_key: KeyFactory,
    database: BoundDatabase,
    clock: FixedClock,
) -> None:
    contract, invoice_id = await example_a_june(client, admin, database, clock)
    portal = await make_key(Role.PORTAL, customer_id=contract["customer_id"])
    assert (await late(client, portal, invoice_id, "2026-08-11"))["amount"] == 2_809
    partner = await make_key(Role.PARTNER)
    response = await client.get(f"/v1/invoices/{invoice_id}/late-charge", headers=partner)
    assert response.status_code == 403


async def test_as_of_must_be_a_date(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase, clock: FixedClock
) -> None:
    _, invoice_id = await example_a_june(client, admin, database, clock)
    response = await client.get(
        f"/v1/invoices/{invoice_id}/late-charge", params={"as_of": "2026-13-01"}, headers=admin
    )
    assert response.status_code == 422


async def test_void_invoice_bears_no_late_charge(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase, clock: FixedClock
) -> None:
    _, invoice_id = await example_a_june(client, admin, database, clock)
    voided = await client.post(
        f"/v1/invoices/{invoice_id}/void", json={"reason": "誤発行"}, headers=admin
    )
    assert voided.status_code == 200
    response = await client.get(f"/v1/invoices/{invoice_id}/late-charge", headers=admin)
    assert response.status_code == 409
    assert response.json()["allowed"] == []
