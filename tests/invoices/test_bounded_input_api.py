"""issue 9 §4: bill runs, payments, credit notes, late charges and previews take only
business dates and months in the window, and whole yen up to 10^12; a refused request
stores nothing.

Today is 2026-11-24 (Tokyo), so the window is 2000-01-01 … 2031-12-31. The June invoice
of example A: 707,300 yen, issued 2026-07-01, due 2026-07-31.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import FixedClock
from app.invoices.models import BillingRun, CreditNote, Invoice, Payment
from tests.invoices.billing_steps import active_contract, start_run
from tests.invoices.receivables_support import example_a_june
from tests.support.bounds import (
    BAD_AMOUNTS,
    LAST_ALLOWED,
    MONTHS_OUT_OF_WINDOW,
    OUT_OF_WINDOW,
    out_of_range,
    post_raw,
    with_raw,
)
from tests.support.databases import BoundDatabase

Headers = dict[str, str]


async def _count(session: AsyncSession, model: Any) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


# --- bill runs -------------------------------------------------------------------------


@pytest.mark.parametrize("month", MONTHS_OUT_OF_WINDOW)
async def test_issue_9_s4_a_bill_run_for_a_month_outside_the_window_is_refused(
    client: httpx.AsyncClient, admin: Headers, session: AsyncSession, month: str
) -> None:
    """0001-01 used to be accepted (and stored by PostgreSQL as year 1)."""
    out_of_range(await start_run(client, admin, month), "month")
    assert await _count(session, BillingRun) == 0
    assert await _count(session, Invoice) == 0


async def test_issue_9_s4_a_bill_run_for_2000_01_is_in_the_window(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    response = await start_run(client, admin, "2000-01", dry_run=True)
    assert response.status_code == 202, response.text
    # The last month of the window passes the window and meets R-INV-1 instead.
    late = await start_run(client, admin, "2031-12")
    assert late.status_code == 422, late.text
    assert late.json()["code"] == "month_not_ended"


# --- payments --------------------------------------------------------------------------


async def _pay(
    client: httpx.AsyncClient, headers: Headers, invoice_id: str, **body: Any
) -> httpx.Response:
    return await client.post(
        f"/v1/invoices/{invoice_id}/payments",
        json={"paid_on": "2026-08-05", "amount": 1000, **body},
        headers=headers,
    )


@pytest.mark.parametrize("paid_on", OUT_OF_WINDOW)
async def test_issue_9_s4_a_payment_dated_outside_the_window_is_refused(
    client: httpx.AsyncClient,
    admin: Headers,
    database: BoundDatabase,
    clock: FixedClock,
    session: AsyncSession,
    paid_on: str,
) -> None:
    _, invoice_id = await example_a_june(client, admin, database, clock)
    out_of_range(await _pay(client, admin, invoice_id, paid_on=paid_on), "paid_on")
    assert await _count(session, Payment) == 0


@pytest.mark.parametrize("amount", BAD_AMOUNTS)
async def test_issue_9_s4_a_payment_is_whole_positive_yen_up_to_10_12(
    client: httpx.AsyncClient,
    admin: Headers,
    database: BoundDatabase,
    clock: FixedClock,
    session: AsyncSession,
    amount: str,
) -> None:
    _, invoice_id = await example_a_june(client, admin, database, clock)
    body = with_raw({"paid_on": "2026-08-05", "amount": 1}, "amount", amount)
    response = await post_raw(client, f"/v1/invoices/{invoice_id}/payments", admin, body)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "amount"
    assert await _count(session, Payment) == 0


async def test_issue_9_s4_a_payment_of_10_12_yen_passes_validation(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase, clock: FixedClock
) -> None:
    """10^12 is a valid amount; this invoice's balance is what refuses it (R-INV-4)."""
    _, invoice_id = await example_a_june(client, admin, database, clock)
    response = await _pay(client, admin, invoice_id, amount=10**12)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "overpayment"


# --- credit notes ----------------------------------------------------------------------


@pytest.mark.parametrize("amount", BAD_AMOUNTS)
async def test_issue_9_s4_a_credit_note_line_is_whole_positive_yen_up_to_10_12(
    client: httpx.AsyncClient,
    admin: Headers,
    database: BoundDatabase,
    clock: FixedClock,
    session: AsyncSession,
    amount: str,
) -> None:
    _, invoice_id = await example_a_june(client, admin, database, clock)
    body = {"reason": "誤請求", "lines": [{"description": "x", "amount": 1, "taxable": True}]}
    response = await post_raw(
        client,
        f"/v1/invoices/{invoice_id}/credit-notes",
        admin,
        with_raw(body, "lines.0.amount", amount),
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "lines.0.amount"
    assert await _count(session, CreditNote) == 0


# --- late charges, previews, invoice lists ------------------------------------------------


@pytest.mark.parametrize("as_of", OUT_OF_WINDOW)
async def test_issue_9_s4_a_late_charge_as_of_outside_the_window_is_refused(
    client: httpx.AsyncClient,
    admin: Headers,
    database: BoundDatabase,
    clock: FixedClock,
    as_of: str,
) -> None:
    _, invoice_id = await example_a_june(client, admin, database, clock)
    response = await client.get(
        f"/v1/invoices/{invoice_id}/late-charge", params={"as_of": as_of}, headers=admin
    )
    out_of_range(response, "as_of")


async def test_issue_9_s4_a_late_charge_as_of_the_last_allowed_day_is_counted(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase, clock: FixedClock
) -> None:
    """Paid in full on 2031-12-31: 2026-08-01 … 2031-12-30, 1,978 days of 14.5 % on
    707,300 yen (R-CHG-7), counted without an error five years ahead."""
    _, invoice_id = await example_a_june(client, admin, database, clock)
    response = await client.get(
        f"/v1/invoices/{invoice_id}/late-charge", params={"as_of": LAST_ALLOWED}, headers=admin
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["as_of"], body["days"]) == (LAST_ALLOWED, 1_978)
    assert body["amount"] == 707_300 * 1_978 * 29 // (2 * 100 * 365)


@pytest.mark.parametrize("month", MONTHS_OUT_OF_WINDOW)
async def test_issue_9_s4_an_invoice_preview_or_filter_outside_the_window_is_refused(
    client: httpx.AsyncClient, admin: Headers, month: str
) -> None:
    contract = await active_contract(client, admin)
    preview = await client.get(
        f"/v1/contracts/{contract['id']}/invoice-preview", params={"month": month}, headers=admin
    )
    out_of_range(preview, "month")
    listed = await client.get("/v1/invoices", params={"month": month}, headers=admin)
    out_of_range(listed, "month")


async def test_issue_9_s3_a_preview_of_the_last_month_of_the_window_answers(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    """ "What will December 2031 cost?": the renewed contract's monthly lines (R-TERM-2)."""
    contract = await active_contract(client, admin)
    response = await client.get(
        f"/v1/contracts/{contract['id']}/invoice-preview",
        params={"month": "2031-12"},
        headers=admin,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["billable"], body["invoiced"]) == (True, False)
    monthly = {"basic", "foundation-essential"}
    recurring = [
        (line["item"], line["amount"]) for line in body["lines"] if line["item"] in monthly
    ]
    assert recurring == [("basic", 50_000), ("foundation-essential", 43_000)]
    assert body["issued_on"] == "2032-01-01"
