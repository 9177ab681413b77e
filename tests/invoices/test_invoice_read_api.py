"""GET /v1/invoices and /v1/invoices/{id}: the qualified invoice's fields (R-INV-2),
derived status (R-INV-4), filters, pagination, and who may read what (R-PTN-3)."""

from __future__ import annotations

from datetime import date

import httpx

from app.auth.roles import Role
from app.core.clock import FixedClock
from tests.conftest import KeyFactory
from tests.contracts.steps import at
from tests.invoices.receivables_support import example_a_june, monthly_invoice
from tests.support.databases import BoundDatabase

Headers = dict[str, str]


async def test_invoice_shows_every_field_of_a_qualified_invoice_r_inv_2(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase, clock: FixedClock
) -> None:
    contract, invoice_id = await example_a_june(client, admin, database, clock)
    response = await client.get(f"/v1/invoices/{invoice_id}", headers=admin)
    assert response.status_code == 200, response.text
    assert response.headers["ETag"]
    body = response.json()
    assert body["number"].startswith("INV-2026-")
    assert body["contract_id"] == contract["id"]
    assert body["customer_id"] == contract["customer_id"]
    assert (body["kind"], body["month"]) == ("monthly", "2026-06")
    assert (body["issued_on"], body["due_on"]) == ("2026-07-01", "2026-07-31")
    assert body["recipient"] == {"name": "株式会社サンプル 経理部"}
    assert body["issuer"]["registration_number"] == "T1234567890123"
    assert [
        (line["item"], line["quantity"], line["unit_price"], line["amount"], line["taxable"])
        for line in body["lines"]
    ] == [
        ("basic", 1, 50_000, 50_000, True),
        ("foundation-essential", 5, 8_600, 43_000, True),
        ("onboarding-simple", 1, 550_000, 550_000, True),
    ]
    assert all(line["description"] for line in body["lines"])
    assert set(body["lines"][0]) == {
        "item",
        "description",
        "quantity",
        "unit_price",
        "amount",
        "taxable",
    }
    # Worked example A: 643,000 + tax 64,300 = 707,300.
    assert (body["taxable_subtotal"], body["tax"], body["non_taxable_subtotal"]) == (
        643_000,
        64_300,
        0,
    )
    assert (body["total"], body["amount_paid"], body["balance"]) == (707_300, 0, 707_300)
    assert body["credit_notes"] == []


async def test_unpaid_invoice_is_issued_until_due_then_overdue_r_inv_4(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase, clock: FixedClock
) -> None:
    _, invoice_id = await example_a_june(client, admin, database, clock)
    at(clock, date(2026, 7, 31))
    assert (await client.get(f"/v1/invoices/{invoice_id}", headers=admin)).json()[
        "status"
    ] == "issued"
    at(clock, date(2026, 8, 1))
    assert (await client.get(f"/v1/invoices/{invoice_id}", headers=admin)).json()[
        "status"
    ] == "overdue"


async def test_list_filters_by_status_including_derived_overdue(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase, clock: FixedClock
) -> None:
    contract, june = await example_a_june(client, admin, database, clock)
    november = await monthly_invoice(
        database,
        clock,
        contract,
        "2026-10",
        issued_on=date(2026, 11, 1),
        due_on=date(2026, 11, 30),
    )
    params = {"contract_id": contract["id"]}
    overdue = await client.get(
        "/v1/invoices", params={**params, "status": "overdue"}, headers=admin
    )
    issued = await client.get("/v1/invoices", params={**params, "status": "issued"}, headers=admin)
    assert [i["id"] for i in overdue.json()["items"]] == [june]
    assert [i["id"] for i in issued.json()["items"]] == [november]
    by_month = await client.get(
        "/v1/invoices", params={**params, "month": "2026-10"}, headers=admin
    )
    assert [i["id"] for i in by_month.json()["items"]] == [november]
    bad = await client.get("/v1/invoices", params={"status": "late"}, headers=admin)
    assert bad.status_code == 422


async def test_list_is_newest_first_with_a_cursor(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase, clock: FixedClock
) -> None:
    contract, june = await example_a_june(client, admin, database, clock)
    july = await monthly_invoice(database, clock, contract, "2026-07")
    august = await monthly_invoice(database, clock, contract, "2026-08")
    seen: list[str] = []
    cursor = None
    while True:
        params = {"customer_id": contract["customer_id"], "limit": "2"}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/v1/invoices", params=params, headers=admin)).json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [august, july, june]


async def test_portal_reads_only_its_customers_invoices_r_ptn_3(
    client: httpx.AsyncClient,
    admin: Headers,
    make_key: KeyFactory,
    database: BoundDatabase,
    clock: FixedClock,
) -> None:
    contract, invoice_id = await example_a_june(client, admin, database, clock)
    other, other_invoice = await example_a_june(client, admin, database, clock)
    portal = await make_key(Role.PORTAL, customer_id=contract["customer_id"])
    assert (await client.get(f"/v1/invoices/{invoice_id}", headers=portal)).status_code == 200
    hidden = await client.get(f"/v1/invoices/{other_invoice}", headers=portal)
    assert hidden.status_code == 404
    assert hidden.json()["code"] == "invoice_not_found"
    listed = (await client.get("/v1/invoices", headers=portal)).json()["items"]
    assert [i["id"] for i in listed] == [invoice_id]
    foreign = await client.get(
        "/v1/invoices", params={"customer_id": other["customer_id"]}, headers=portal
    )
    assert foreign.json()["items"] == []
    pdf = await client.get(f"/v1/invoices/{other_invoice}/pdf", headers=portal)
    assert pdf.status_code == 404


async def test_role_matrix_for_reading_and_changing_invoices(
    client: httpx.AsyncClient,
    admin: Headers,
    make_key: KeyFactory,
    database: BoundDatabase,
    clock: FixedClock,
) -> None:
    _, invoice_id = await example_a_june(client, admin, database, clock)
    base = f"/v1/invoices/{invoice_id}"
    for role in (Role.OPERATOR, Role.CRM):
        headers = await make_key(role)
        assert (await client.get(base, headers=headers)).status_code == 200
        assert (await client.get("/v1/invoices", headers=headers)).status_code == 200
    partner = await make_key(Role.PARTNER)
    assert (await client.get(base, headers=partner)).status_code == 403
    assert (await client.get("/v1/invoices", headers=partner)).status_code == 403
    assert (await client.get(base)).status_code == 401
    payment = {"paid_on": "2026-08-01", "amount": 1}
    for role in (Role.CRM, Role.PARTNER):
        headers = await make_key(role)
        assert (
            await client.post(f"{base}/payments", json=payment, headers=headers)
        ).status_code == 403
        assert (
            await client.post(f"{base}/void", json={"reason": "x"}, headers=headers)
        ).status_code == 403
    portal = await make_key(
        Role.PORTAL, customer_id=(await client.get(base, headers=admin)).json()["customer_id"]
    )
    assert (await client.post(f"{base}/payments", json=payment, headers=portal)).status_code == 403
    credit = {"reason": "x", "lines": [{"description": "x", "amount": 1, "taxable": True}]}
    assert (
        await client.post(f"{base}/credit-notes", json=credit, headers=portal)
    ).status_code == 403


async def test_unknown_invoice_is_a_problem_404(client: httpx.AsyncClient, admin: Headers) -> None:
    response = await client.get("/v1/invoices/inv_missing", headers=admin)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
