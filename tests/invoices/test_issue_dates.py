"""Issue 9 §1: issue dates are true (R-INV-1, R-INV-2, R-INV-3, R-INV-4, R-CHG-7).

An invoice is dated the day it is issued: the month's scheduled issue day when the run is
on time, else the day of the run; an explicit ``issued_on`` lies between the two. The due
date is never within ``invoice_min_days_to_pay`` days of the issue date.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Unprocessable
from app.core.settings import Settings
from app.invoices.cancellation_invoices import cancellation_due_on
from app.invoices.issue_dates import due_on, issued_on_for, scheduled_issue_on
from app.invoices.models import BillingRun
from app.pricing.calendar import Month
from tests.contracts.steps import at
from tests.invoices.billing_steps import active_contract, preview, run_month, start_run
from tests.support.worker import work_off

Headers = dict[str, str]
JUNE = Month(2026, 6)


def _settings(**values: Any) -> Settings:
    return Settings(admin_api_key=None, **values)


# --- the rules, without a database -------------------------------------------------------


def test_scheduled_issue_day_is_the_configured_day_of_the_next_month_r_inv_1() -> None:
    """Issue 9 §1: June → 1 July by default, 25 July with issue day 25; December → January."""
    assert scheduled_issue_on(JUNE, _settings()) == date(2026, 7, 1)
    assert scheduled_issue_on(JUNE, _settings(invoice_issue_day=25)) == date(2026, 7, 25)
    assert scheduled_issue_on(Month(2026, 12), _settings()) == date(2027, 1, 1)


def test_on_time_runs_use_the_scheduled_day_late_ones_today_r_inv_1() -> None:
    """Issue 9 §1: on the scheduled day (and before it) the scheduled day; one day late,
    that day."""
    settings = _settings()
    assert issued_on_for(JUNE, None, date(2026, 7, 1), settings) == date(2026, 7, 1)
    assert issued_on_for(JUNE, None, date(2026, 7, 2), settings) == date(2026, 7, 2)
    assert issued_on_for(JUNE, None, date(2026, 12, 2), settings) == date(2026, 12, 2)
    early = _settings(invoice_issue_day=25)
    assert issued_on_for(JUNE, None, date(2026, 7, 3), early) == date(2026, 7, 25)


@pytest.mark.parametrize(
    ("requested", "today", "latest"),
    [
        (date(2026, 6, 30), date(2026, 12, 2), date(2026, 12, 2)),  # before the scheduled day
        (date(2026, 12, 3), date(2026, 12, 2), date(2026, 12, 2)),  # in the future
        (date(2026, 7, 2), date(2026, 7, 1), date(2026, 7, 1)),  # after it, run on time
    ],
)
def test_an_explicit_issue_date_outside_the_range_is_refused_r_inv_1(
    requested: date, today: date, latest: date
) -> None:
    """Issue 9 §1: 422 ``issued_on_out_of_range`` naming the allowed range."""
    with pytest.raises(Unprocessable) as refused:
        issued_on_for(JUNE, requested, today, _settings())
    error = refused.value
    assert (error.code, error.rule, error.status) == ("issued_on_out_of_range", "R-INV-1", 422)
    assert error.facts["earliest_issued_on"] == date(2026, 7, 1)
    assert error.facts["latest_issued_on"] == latest
    assert error.facts["field"] == "issued_on"


def test_an_explicit_issue_date_in_the_range_is_kept_r_inv_1() -> None:
    """Issue 9 §1: both ends included (history loaded from a legacy system)."""
    settings = _settings()
    for day in (date(2026, 7, 1), date(2026, 9, 15), date(2026, 12, 2)):
        assert issued_on_for(JUNE, day, date(2026, 12, 2), settings) == day


@pytest.mark.parametrize(
    ("issued_on", "values", "expected"),
    [
        (date(2026, 7, 1), {}, date(2026, 7, 31)),  # the configured rule
        (date(2026, 7, 21), {}, date(2026, 7, 31)),  # exactly 10 days: allowed
        (date(2026, 7, 22), {}, date(2026, 8, 31)),  # 9 days: the next month's end
        (date(2026, 7, 25), {"invoice_issue_day": 25}, date(2026, 8, 31)),
        (date(2026, 12, 25), {}, date(2027, 1, 31)),  # over the year end
        (date(2027, 1, 31), {}, date(2027, 2, 28)),  # February
        (date(2027, 2, 20), {}, date(2027, 3, 31)),  # 28 February is 8 days on
        (date(2028, 2, 19), {}, date(2028, 2, 29)),  # leap year: 29 February is 10 days on
        (date(2026, 7, 25), {"invoice_due_month_offset": 1}, date(2026, 8, 31)),
        (date(2026, 7, 25), {"invoice_min_days_to_pay": 40}, date(2026, 9, 30)),
        (date(2026, 7, 31), {"invoice_min_days_to_pay": 0}, date(2026, 7, 31)),
    ],
)
def test_due_date_is_never_within_the_minimum_days_r_inv_1(
    issued_on: date, values: dict[str, int], expected: date
) -> None:
    """Issue 9 §1: the last day of the issue month (+ offset), but never sooner than
    SCMS_INVOICE_MIN_DAYS_TO_PAY (default 10) days after the issue date."""
    assert due_on(issued_on, _settings(**values)) == expected


def test_cancellation_invoices_follow_the_same_floor_r_chg_6() -> None:
    """Issue 9 §1: a cancellation invoice (issued today) is due at the end of the month
    after the issue month, and never within the minimum days either."""
    assert cancellation_due_on(date(2026, 11, 24), _settings()) == date(2026, 12, 31)
    floor = _settings(invoice_min_days_to_pay=60)
    assert cancellation_due_on(date(2026, 11, 24), floor) == date(2027, 1, 31)


@given(
    issued_on=st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
    offset=st.integers(0, 12),
    min_days=st.integers(0, 365),
)
def test_due_date_property_r_inv_1(issued_on: date, offset: int, min_days: int) -> None:
    """Issue 9 §1: always a month's last day, never sooner than the minimum, and the
    first such month end from the configured rule on."""
    settings = _settings(invoice_due_month_offset=offset, invoice_min_days_to_pay=min_days)
    due = due_on(issued_on, settings)
    assert due + timedelta(days=1) == Month.of(due + timedelta(days=1)).first_day
    assert due >= issued_on + timedelta(days=min_days)
    rule = (Month.of(issued_on) + offset).last_day
    assert due >= rule
    assert due == rule or (Month.of(due) - 1).last_day < issued_on + timedelta(days=min_days)


# --- through the API ---------------------------------------------------------------------


async def _invoice(client: httpx.AsyncClient, headers: Headers, invoice_id: str) -> Any:
    response = await client.get(f"/v1/invoices/{invoice_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_run_on_the_scheduled_day_is_on_time_r_inv_1(
    client: httpx.AsyncClient, admin: Headers, clock: Any
) -> None:
    """Issue 9 §1: run on 1 July, June's invoices are dated 1 July, the run not late."""
    contract = await active_contract(client, admin)
    at(clock, date(2026, 7, 1))
    run = await run_month(client, admin, "2026-06")
    assert (run["issued_on"], run["scheduled_issue_on"], run["late"]) == (
        "2026-07-01",
        "2026-07-01",
        False,
    )
    june = await preview(client, admin, contract["id"], "2026-06")
    assert (june["issued_on"], june["due_on"]) == ("2026-07-01", "2026-07-31")


async def test_a_run_one_day_late_is_dated_that_day_r_inv_1(
    client: httpx.AsyncClient, admin: Headers, clock: Any
) -> None:
    """Issue 9 §1: run on 2 July, the invoice is dated 2 July (not back-dated), due 31 July,
    and the run says it is late."""
    contract = await active_contract(client, admin)
    at(clock, date(2026, 7, 2))
    run = await run_month(client, admin, "2026-06")
    assert (run["issued_on"], run["scheduled_issue_on"], run["late"]) == (
        "2026-07-02",
        "2026-07-01",
        True,
    )
    june = await preview(client, admin, contract["id"], "2026-06")
    assert (june["issued_on"], june["due_on"]) == ("2026-07-02", "2026-07-31")


@pytest.mark.parametrize("issued_on", ["2026-06-30", "2026-11-25"])
async def test_an_issue_date_outside_the_range_is_422_and_stores_nothing_r_inv_1(
    client: httpx.AsyncClient, admin: Headers, session: AsyncSession, issued_on: str
) -> None:
    """Issue 9 §1: before the scheduled day, or after today (2026-11-24), for a real run
    and a dry run alike."""
    await active_contract(client, admin)
    for dry_run in (False, True):
        response = await client.post(
            "/v1/billing-runs",
            json={"month": "2026-06", "issued_on": issued_on, "dry_run": dry_run},
            headers=admin,
        )
        assert response.status_code == 422, response.text
        body = response.json()
        assert (body["code"], body["rule"]) == ("issued_on_out_of_range", "R-INV-1")
        assert (body["earliest_issued_on"], body["latest_issued_on"]) == (
            "2026-07-01",
            "2026-11-24",
        )
    assert await session.scalar(select(func.count()).select_from(BillingRun)) == 0


async def test_an_explicit_issue_date_dates_the_invoices_and_the_dry_run_r_inv_1(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    """Issue 9 §1: loading history, June issued on 2026-07-10; the dry run reports the
    same date; the run is late (today 2026-11-24)."""
    contract = await active_contract(client, admin)
    body = {"month": "2026-06", "issued_on": "2026-07-10"}
    dry = await client.post("/v1/billing-runs", json={**body, "dry_run": True}, headers=admin)
    assert dry.status_code == 202, dry.text
    assert (dry.json()["issued_on"], dry.json()["late"]) == ("2026-07-10", True)
    response = await client.post("/v1/billing-runs", json=body, headers=admin)
    assert response.status_code == 202, response.text
    await work_off(client)
    run = await client.get(f"/v1/billing-runs/{response.json()['id']}", headers=admin)
    assert (run.json()["issued_on"], run.json()["scheduled_issue_on"]) == (
        "2026-07-10",
        "2026-07-01",
    )
    june = await preview(client, admin, contract["id"], "2026-06")
    assert (june["issued_on"], june["due_on"]) == ("2026-07-10", "2026-07-31")


async def test_issue_day_25_is_due_at_the_next_month_end_r_inv_1(
    client: httpx.AsyncClient, admin: Headers, clock: Any, settings: Settings
) -> None:
    """Issue 9 §1: issued 25 July, 31 July is 6 days on: due 31 August."""
    settings.invoice_issue_day = 25
    contract = await active_contract(client, admin)
    at(clock, date(2026, 7, 3))
    draft = await preview(client, admin, contract["id"], "2026-06")
    assert (draft["issued_on"], draft["due_on"]) == ("2026-07-25", "2026-08-31")
    run = await run_month(client, admin, "2026-06")
    assert (run["issued_on"], run["late"]) == ("2026-07-25", False)
    june = await preview(client, admin, contract["id"], "2026-06")
    assert (june["issued_on"], june["due_on"]) == ("2026-07-25", "2026-08-31")


async def test_a_late_invoice_is_neither_overdue_nor_late_charged_on_its_issue_day_r_chg_7(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    """Issue 9 §1: June billed on 2026-11-24 is issued that day, due 2026-12-31, `issued`
    (not `overdue`) and bears no late charge."""
    contract = await active_contract(client, admin)
    await run_month(client, admin, "2026-06")
    june = await preview(client, admin, contract["id"], "2026-06")
    invoice = await _invoice(client, admin, june["invoice_id"])
    assert (invoice["issued_on"], invoice["due_on"], invoice["status"]) == (
        "2026-11-24",
        "2026-12-31",
        "issued",
    )
    late = await client.get(f"/v1/invoices/{june['invoice_id']}/late-charge", headers=admin)
    assert late.status_code == 200, late.text
    assert (late.json()["amount"], late.json()["days"]) == (0, 0)


async def test_a_payment_dated_before_the_issue_date_is_refused_r_inv_4(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    """Issue 9 §1: an invoice issued 2026-11-24 takes no payment dated 2026-11-23."""
    contract = await active_contract(client, admin)
    await run_month(client, admin, "2026-06")
    invoice_id = (await preview(client, admin, contract["id"], "2026-06"))["invoice_id"]
    url = f"/v1/invoices/{invoice_id}/payments"
    early = await client.post(url, json={"paid_on": "2026-11-23", "amount": 1}, headers=admin)
    assert early.status_code == 422, early.text
    body = early.json()
    assert (body["code"], body["rule"], body["field"]) == (
        "payment_before_issue",
        "R-INV-4",
        "paid_on",
    )
    assert body["issued_on"] == "2026-11-24"
    assert (await _invoice(client, admin, invoice_id))["amount_paid"] == 0
    ok = await client.post(url, json={"paid_on": "2026-11-24", "amount": 1}, headers=admin)
    assert ok.status_code == 201, ok.text


async def test_numbers_follow_the_actual_issue_year_r_inv_3(
    client: httpx.AsyncClient, admin: Headers, clock: Any
) -> None:
    """Issue 9 §1, R-INV-3: November billed on 2027-01-05 is issued in 2027 (INV-2027-…);
    October loaded with its true 2026 issue date stays in the 2026 series."""
    contract = await active_contract(client, admin)
    at(clock, date(2027, 1, 5))
    response = await start_run(client, admin, "2026-11")
    assert response.status_code == 202
    await work_off(client)
    november = await preview(client, admin, contract["id"], "2026-11")
    assert (november["issued_on"], november["number"]) == ("2027-01-05", "INV-2027-0000001")
    october = await client.post(
        "/v1/billing-runs", json={"month": "2026-10", "issued_on": "2026-11-01"}, headers=admin
    )
    assert october.status_code == 202, october.text
    await work_off(client)
    issued = await preview(client, admin, contract["id"], "2026-10")
    assert (issued["issued_on"], issued["number"]) == ("2026-11-01", "INV-2026-0000001")


async def test_the_preview_of_a_late_month_shows_todays_dates_r_inv_1(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    """Issue 9 §1: what a run today would issue: dated 2026-11-24, due 2026-12-31."""
    contract = await active_contract(client, admin)
    draft = await preview(client, admin, contract["id"], "2026-08")
    assert (draft["issued_on"], draft["due_on"]) == ("2026-11-24", "2026-12-31")
