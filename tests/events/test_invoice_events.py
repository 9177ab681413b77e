"""issue 12 §2: invoices issued by a bill run (in bulk), paid, voided, credited, and the
payments and credit notes themselves, each record their event in the change's transaction."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest

from app.core.clock import FixedClock
from app.customers.service import BillingRecipient
from app.invoices.composition import (
    INVOICE_COLUMNS,
    LINE_COLUMNS,
    DraftLine,
    Issuer,
    compose,
    compose_rows,
)
from app.invoices.receivables import InvoiceView, issued_data, to_read
from app.pricing.lines import ChargeLine
from tests.events.support import Headers, get, latest_is_get, only, stored, total, types_of
from tests.invoices.billing_steps import active_contract, example_b, run_month
from tests.invoices.receivables_support import monthly_invoice, pay, pay_ok
from tests.support.databases import BoundDatabase


async def _invoices(
    client: httpx.AsyncClient, headers: Headers, month: str
) -> list[dict[str, Any]]:
    body = await get(client, f"/v1/invoices?month={month}&limit=200", headers)
    items: list[dict[str, Any]] = body["items"]
    return items


async def test_a_bill_run_records_each_invoice_it_issues_as_its_get_reads(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase
) -> None:
    a = await active_contract(client, admin)
    b = await example_b(client, admin)
    run = await run_month(client, admin, "2026-06")
    assert run["invoices_created"] == 2
    invoices = await _invoices(client, admin, "2026-06")
    assert {i["contract_id"] for i in invoices} == {a["id"], b["id"]}
    for invoice in invoices:
        event = await only(database, invoice["id"], "invoice.issued")
        assert event.data == invoice
        assert (event.customer_id, event.resource_type) == (invoice["customer_id"], "invoice")
        # The one-time items the activation recorded are among the lines.
        assert len(event.data["lines"]) == len(invoice["lines"]) > 1
    # A re-run issues nothing and records nothing but its own end (billing_run.finished).
    before = await total(database)
    again = await run_month(client, admin, "2026-06")
    assert again["invoices_existing"] == 2
    assert await total(database) == before + 1
    assert await types_of(database, again["id"]) == ["billing_run.finished"]


@pytest.mark.parametrize("today", [date(2026, 7, 31), date(2026, 8, 1)])
def test_the_bill_runs_event_data_is_the_read_model_of_the_rows_it_writes(today: date) -> None:
    """The bill run builds its events from the rows it COPYs, not from a read: the same
    as receivables.to_read, the overdue status included (due 2026-07-31)."""
    lines = [
        DraftLine(ChargeLine("foundation-essential", "基本料金", 50, 1_800, 90_000, True, "R")),
        DraftLine(ChargeLine("late-payment", "遅延損害金", 1, 2_809, 2_809, False, "R"), "chg_1"),
    ]
    values: dict[str, Any] = {
        "invoice_id": "inv_1",
        "number": "2026-000001",
        "contract_id": "ctr_1",
        "customer_id": "cus_1",
        "kind": "monthly",
        "month": "2026-06",
        "issued_on": date(2026, 7, 1),
        "due_on": date(2026, 7, 31),
        "recipient": BillingRecipient("株式会社サンプル 経理部"),
        "issuer": Issuer("アルテリア・ネットワークス株式会社", "T1234567890123"),
        "tax_rate_percent": Decimal(10),
        "lines": lines,
    }
    row, line_rows = compose_rows(**values)
    invoice, orm_lines = compose(**values)
    expected = to_read(InvoiceView(invoice, orm_lines, []), today).model_dump(mode="json")
    data = issued_data(
        dict(zip(INVOICE_COLUMNS, row, strict=True)),
        [dict(zip(LINE_COLUMNS, r, strict=True)) for r in line_rows],
        today,
    )
    assert data == expected
    assert data["status"] == ("issued" if today == date(2026, 7, 31) else "overdue")


async def test_a_dry_run_records_no_invoice_event(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase
) -> None:
    """A dry run issues nothing; what it records is its own end, billing_run.finished."""
    await active_contract(client, admin)
    before = await total(database)
    run = await run_month(client, admin, "2026-06", dry_run=True)
    assert await total(database) == before + 1
    assert await types_of(database, run["id"]) == ["billing_run.finished"]


async def test_a_partial_payment_records_the_payment_and_the_settling_one_the_invoice(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase, clock: FixedClock
) -> None:
    contract = await active_contract(client, admin)
    invoice_id = await monthly_invoice(database, clock, contract, "2026-06")  # 707,300
    first = await pay_ok(client, admin, invoice_id, "2026-07-10", 300_000)
    event = await only(database, first["payment"]["id"], "payment.recorded")
    assert event.data == first["payment"]
    assert (event.customer_id, event.resource_type) == (contract["customer_id"], "payment")
    assert await stored(database, invoice_id, "invoice.paid") == []
    second = await pay_ok(client, admin, invoice_id, "2026-07-20", 407_300)
    assert (await only(database, second["payment"]["id"], "payment.recorded")).data == second[
        "payment"
    ]
    paid = await latest_is_get(
        client, database, admin, type="invoice.paid", path=f"/v1/invoices/{invoice_id}"
    )
    assert paid.data["status"] == "paid"
    assert paid.data == second["invoice"]


async def test_a_late_payment_records_its_late_charge(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase, clock: FixedClock
) -> None:
    contract = await active_contract(client, admin)
    invoice_id = await monthly_invoice(database, clock, contract, "2026-06")
    body = await pay_ok(client, admin, invoice_id, "2026-08-11", 707_300)
    charge = body["late_charge"]
    event = await only(database, charge["id"], "charge.recorded")
    ledger = await get(client, f"/v1/contracts/{contract['id']}/charges?limit=200", admin)
    assert [c for c in ledger["items"] if c["id"] == charge["id"]] == [event.data]
    assert event.data["amount"] == 2_809


async def test_a_refused_payment_records_nothing(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase, clock: FixedClock
) -> None:
    contract = await active_contract(client, admin)
    invoice_id = await monthly_invoice(database, clock, contract, "2026-06")
    before = await total(database)
    response = await pay(client, admin, invoice_id, "2026-07-10", 707_301)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "overpayment"
    assert await total(database) == before


async def test_a_void_records_the_invoice_as_void(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase, clock: FixedClock
) -> None:
    contract = await active_contract(client, admin)
    invoice_id = await monthly_invoice(database, clock, contract, "2026-06")
    response = await client.post(
        f"/v1/invoices/{invoice_id}/void", json={"reason": "宛名誤り"}, headers=admin
    )
    assert response.status_code == 200, response.text
    event = await latest_is_get(
        client, database, admin, type="invoice.voided", path=f"/v1/invoices/{invoice_id}"
    )
    assert event.data["status"] == "void"
    # Void twice: a 409, and no second event.
    again = await client.post(
        f"/v1/invoices/{invoice_id}/void", json={"reason": "宛名誤り"}, headers=admin
    )
    assert again.status_code == 409
    assert len(await stored(database, invoice_id, "invoice.voided")) == 1


async def test_a_credit_note_records_itself_and_settling_a_paid_rest_the_invoice(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase, clock: FixedClock
) -> None:
    contract = await active_contract(client, admin)
    invoice_id = await monthly_invoice(database, clock, contract, "2026-06")
    invoice = await get(client, f"/v1/invoices/{invoice_id}", admin)
    await pay_ok(client, admin, invoice_id, "2026-07-10", invoice["total"] - 11_000)
    response = await client.post(
        f"/v1/invoices/{invoice_id}/credit-notes",
        json={
            "reason": "請求誤り",
            "lines": [{"description": "値引き", "amount": 10_000, "taxable": True}],
        },
        headers=admin,
    )
    assert response.status_code == 201, response.text
    note = response.json()
    event = await only(database, note["id"], "credit_note.issued")
    assert event.data == note
    assert (event.customer_id, event.resource_type) == (contract["customer_id"], "credit_note")
    # 10,000 + 1,000 of tax credit the 11,000 left: the invoice is paid.
    paid = await latest_is_get(
        client, database, admin, type="invoice.paid", path=f"/v1/invoices/{invoice_id}"
    )
    assert paid.data["status"] == "paid"
    assert paid.data["amount_credited"] == 11_000


async def test_a_refused_credit_note_records_nothing(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase, clock: FixedClock
) -> None:
    contract = await active_contract(client, admin)
    invoice_id = await monthly_invoice(database, clock, contract, "2026-06")
    before = await total(database)
    response = await client.post(
        f"/v1/invoices/{invoice_id}/credit-notes",
        json={
            "reason": "請求誤り",
            "lines": [{"description": "過大", "amount": 100_000_000, "taxable": True}],
        },
        headers=admin,
    )
    assert response.status_code == 422, response.text
    assert await total(database) == before
