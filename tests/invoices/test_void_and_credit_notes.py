"""Voiding an unpaid invoice and correcting one by credit note (R-INV-4, R-INV-1, R-INV-3,
R-CHG-4)."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditRecord
from app.charges.models import Charge
from app.core.clock import FixedClock
from app.core.pagination import Page
from app.invoices.models import Invoice
from app.invoices.schemas import InvoiceRead
from tests.contracts.steps import at
from tests.invoices.receivables_support import example_a_june, monthly_invoice, pay_ok
from tests.support.databases import BoundDatabase

Headers = dict[str, str]
ONBOARDING = {"description": "初期導入支援（簡易版）", "amount": 550_000, "taxable": True}


async def void(client: httpx.AsyncClient, headers: Headers, invoice_id: str) -> httpx.Response:
    return await client.post(
        f"/v1/invoices/{invoice_id}/void", json={"reason": "宛名誤り"}, headers=headers
    )


async def credit(
    client: httpx.AsyncClient, headers: Headers, invoice_id: str, *lines: dict[str, Any]
) -> httpx.Response:
    return await client.post(
        f"/v1/invoices/{invoice_id}/credit-notes",
        json={"reason": "請求誤り", "lines": list(lines)},
        headers=headers,
    )


async def credit_ok(
    client: httpx.AsyncClient, headers: Headers, invoice_id: str, *lines: dict[str, Any]
) -> dict[str, Any]:
    response = await credit(client, headers, invoice_id, *lines)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_void_releases_the_month_and_its_ledger_charges_r_inv_4(
    client: httpx.AsyncClient,
    admin: Headers,
    database: BoundDatabase,
    clock: FixedClock,
    session: AsyncSession,
) -> None:
    contract, invoice_id = await example_a_june(client, admin, database, clock)
    onboarding = await session.scalar(
        select(Charge).where(Charge.contract_id == contract["id"], Charge.kind == "one-time")
    )
    assert onboarding is not None
    assert onboarding.invoice_id == invoice_id
    response = await void(client, admin, invoice_id)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["voided_on"], body["void_reason"]) == (
        "void",
        "2026-11-24",
        "宛名誤り",
    )
    await session.refresh(onboarding)
    assert onboarding.invoice_id is None  # back in the ledger, billed again next time
    # R-INV-1: the month may be invoiced again, and the new invoice takes the charge.
    again = await monthly_invoice(database, clock, contract, "2026-06")
    reissued = (await client.get(f"/v1/invoices/{again}", headers=admin)).json()
    assert reissued["total"] == 707_300
    assert reissued["number"] != body["number"]
    await session.refresh(onboarding)
    assert onboarding.invoice_id == again
    audit = await session.scalar(
        select(AuditRecord).where(
            AuditRecord.action == "invoices.void", AuditRecord.resource_id == invoice_id
        )
    )
    assert audit is not None
    assert audit.after is not None
    assert audit.after["charges_released"] == 1


async def test_database_keeps_one_live_monthly_invoice_per_month_r_inv_1(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase, clock: FixedClock
) -> None:
    contract, _ = await example_a_june(client, admin, database, clock)
    with pytest.raises(IntegrityError):
        await monthly_invoice(database, clock, contract, "2026-06")


async def test_void_is_refused_once_anything_is_paid_r_inv_4(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase, clock: FixedClock
) -> None:
    _, invoice_id = await example_a_june(client, admin, database, clock)
    await pay_ok(client, admin, invoice_id, "2026-07-10", 1_000)
    response = await void(client, admin, invoice_id)
    assert response.status_code == 409
    problem = response.json()
    assert (problem["code"], problem["rule"], problem["current_status"]) == (
        "invalid_transition",
        "R-INV-4",
        "issued",
    )
    assert problem["allowed"] == ["payments", "credit-notes"]
    assert problem["amount_paid"] == 1_000


async def test_void_twice_is_refused(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase, clock: FixedClock
) -> None:
    _, invoice_id = await example_a_june(client, admin, database, clock)
    assert (await void(client, admin, invoice_id)).status_code == 200
    second = await void(client, admin, invoice_id)
    assert second.status_code == 409
    assert second.json()["allowed"] == []
    assert (await credit(client, admin, invoice_id, ONBOARDING)).status_code == 409


async def test_credit_note_taxes_once_and_numbers_gaplessly_r_inv_3_r_chg_4(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase, clock: FixedClock
) -> None:
    _, invoice_id = await example_a_june(client, admin, database, clock)
    first = await credit_ok(
        client,
        admin,
        invoice_id,
        {"description": "基本料金 一部返還", "amount": 12_345, "taxable": True},
        {"description": "プラン料金 一部返還", "amount": 10_000, "taxable": True},
    )
    # Tax once on the note's taxable subtotal: floor(22,345 × 10 %) = 2,234 (not 1,234 + 1,000).
    assert (first["taxable_subtotal"], first["tax"], first["non_taxable_subtotal"]) == (
        22_345,
        2_234,
        0,
    )
    assert first["total"] == 24_579
    assert first["invoice_id"] == invoice_id
    second = await credit_ok(client, admin, invoice_id, ONBOARDING)
    first_no = int(first["number"].removeprefix("CN-2026-"))  # issued today, 2026-11-24
    assert second["number"] == f"CN-2026-{first_no + 1:07d}"
    body = (await client.get(f"/v1/invoices/{invoice_id}", headers=admin)).json()
    assert body["amount_credited"] == 24_579 + 605_000
    assert body["balance"] == 707_300 - 24_579 - 605_000
    assert [n["number"] for n in body["credit_notes"]] == [first["number"], second["number"]]
    assert body["status"] == "overdue"


async def test_credit_notes_adding_up_to_the_invoice_return_exactly_its_tax_r_chg_4(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase, clock: FixedClock
) -> None:
    _, invoice_id = await example_a_june(client, admin, database, clock)
    first = await credit_ok(
        client, admin, invoice_id, {"description": "一部", "amount": 321_505, "taxable": True}
    )
    last = await credit_ok(
        client, admin, invoice_id, {"description": "残り", "amount": 321_495, "taxable": True}
    )
    assert first["tax"] == 32_150
    assert last["tax"] == 64_300 - 32_150  # 32,150, not floor(32,149.5) = 32,149
    assert first["total"] + last["total"] == 707_300
    body = (await client.get(f"/v1/invoices/{invoice_id}", headers=admin)).json()
    assert (body["status"], body["balance"]) == ("credited", 0)


async def test_credit_may_not_exceed_what_the_invoice_bore_r_inv_4(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase, clock: FixedClock
) -> None:
    _, invoice_id = await example_a_june(client, admin, database, clock)
    too_much = await credit(
        client, admin, invoice_id, {"description": "x", "amount": 643_001, "taxable": True}
    )
    assert too_much.status_code == 422
    problem = too_much.json()
    assert (problem["code"], problem["creditable_taxable"], problem["creditable_total"]) == (
        "credit_exceeds_invoice",
        643_000,
        707_300,
    )
    non_taxable = await credit(
        client, admin, invoice_id, {"description": "x", "amount": 1, "taxable": False}
    )
    assert non_taxable.status_code == 422
    assert non_taxable.json()["creditable_non_taxable"] == 0


async def test_partly_paid_then_credited_for_the_rest_is_paid(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase, clock: FixedClock
) -> None:
    _, invoice_id = await example_a_june(client, admin, database, clock)
    await pay_ok(client, admin, invoice_id, "2026-07-10", 102_300)
    await credit_ok(client, admin, invoice_id, ONBOARDING)
    body = (await client.get(f"/v1/invoices/{invoice_id}", headers=admin)).json()
    assert (body["status"], body["balance"], body["amount_credited"]) == ("paid", 0, 605_000)


async def test_credit_on_a_paid_invoice_leaves_money_to_return(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase, clock: FixedClock
) -> None:
    _, invoice_id = await example_a_june(client, admin, database, clock)
    await pay_ok(client, admin, invoice_id, "2026-07-10", 707_300)
    await credit_ok(client, admin, invoice_id, ONBOARDING)
    body = (await client.get(f"/v1/invoices/{invoice_id}", headers=admin)).json()
    assert (body["status"], body["balance"]) == ("paid", -605_000)


async def test_statuses_issued_paid_overdue_void_credited_r_inv_4(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase, clock: FixedClock
) -> None:
    contract, june = await example_a_june(client, admin, database, clock)
    july = await monthly_invoice(database, clock, contract, "2026-07")
    august = await monthly_invoice(database, clock, contract, "2026-08")
    september = await monthly_invoice(database, clock, contract, "2026-09")
    at(clock, date(2026, 8, 15))
    await pay_ok(client, admin, july, "2026-08-15", 102_300)
    assert (await void(client, admin, august)).status_code == 200
    await credit_ok(
        client, admin, september, {"description": "全額", "amount": 93_000, "taxable": True}
    )
    listed = (
        await client.get("/v1/invoices", params={"contract_id": contract["id"]}, headers=admin)
    ).json()["items"]
    statuses = {i["id"]: i["status"] for i in listed}
    assert statuses == {june: "overdue", july: "paid", august: "void", september: "credited"}
    at(clock, date(2026, 7, 15))
    assert (await client.get(f"/v1/invoices/{june}", headers=admin)).json()["status"] == "issued"


async def test_credit_note_needs_lines_with_positive_amounts(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase, clock: FixedClock
) -> None:
    _, invoice_id = await example_a_june(client, admin, database, clock)
    assert (await credit(client, admin, invoice_id)).status_code == 422
    zero = await credit(
        client, admin, invoice_id, {"description": "x", "amount": 0, "taxable": True}
    )
    assert zero.status_code == 422


async def test_credit_note_is_audited_r_ptn_2(
    client: httpx.AsyncClient,
    admin: Headers,
    database: BoundDatabase,
    clock: FixedClock,
    session: AsyncSession,
) -> None:
    _, invoice_id = await example_a_june(client, admin, database, clock)
    note = await credit_ok(client, admin, invoice_id, ONBOARDING)
    record = await session.scalar(select(AuditRecord).where(AuditRecord.resource_id == note["id"]))
    assert record is not None
    assert (record.action, record.before) == ("credit_notes.issue", None)
    assert record.after is not None
    assert record.after["total"] == 605_000
    invoice = await session.get(Invoice, invoice_id)
    assert invoice is not None
    assert invoice.status == "issued"


async def test_list_get_and_write_answers_show_one_read_model_r_inv_4(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase, clock: FixedClock
) -> None:
    """The list and the GET read plain columns in one statement; the payment's answer is
    built from the session's rows: all three show the same invoice, lines in order, credit
    notes by number, and the ETag moves with each credit note and payment."""
    _, invoice_id = await example_a_june(client, admin, database, clock)
    first_tag = (await client.get(f"/v1/invoices/{invoice_id}", headers=admin)).headers["ETag"]
    before = (await client.get("/v1/invoices", headers=admin)).json()["items"]  # kept renders
    assert [i["amount_credited"] for i in before if i["id"] == invoice_id] == [0]
    small = {"description": "値引き", "amount": 1_000, "taxable": True}
    notes = [await credit_ok(client, admin, invoice_id, line) for line in (ONBOARDING, small)]
    at(clock, date(2026, 8, 1))
    paid = await pay_ok(client, admin, invoice_id, "2026-08-01", 50_000)
    got = await client.get(f"/v1/invoices/{invoice_id}", headers=admin)
    page = (await client.get("/v1/invoices", headers=admin)).json()
    # The list is serialised from plain values, not from the model: it is the model's JSON.
    assert Page[InvoiceRead].model_validate(page).model_dump(mode="json") == page
    (item,) = [i for i in page["items"] if i["id"] == invoice_id]
    assert got.json() == item == paid["invoice"]
    assert [line["item"] for line in item["lines"]] == [
        "basic",
        "foundation-essential",
        "onboarding-simple",
    ]
    assert [n["id"] for n in item["credit_notes"]] == [n["id"] for n in notes]
    assert [n["number"] for n in item["credit_notes"]] == sorted(n["number"] for n in notes)
    credited = sum(n["total"] for n in notes)
    assert item["amount_credited"] == credited == 605_000 + 1_100
    assert item["balance"] == 707_300 - credited - 50_000
    # Issued, a balance left, past its due date (2026-07-31): derived overdue.
    assert item["status"] == "overdue"
    assert got.headers["ETag"] != first_tag
