"""Anonymous monthly statistics (issue 13 §4, Art. 32.1(3)(4), R-PTN-3)."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.roles import Role
from app.pricing.calendar import Month
from app.stats import service
from tests.conftest import KeyFactory
from tests.stats import rows

Body = dict[str, Any]


def fig(value: int) -> Body:
    return {"value": value, "suppressed": False}


HIDDEN = {"value": None, "suppressed": True}


async def _october(client: httpx.AsyncClient, headers: dict[str, str], **params: str) -> Body:
    response = await client.get(
        "/v1/stats/monthly", params={"month": "2026-10", **params}, headers=headers
    )
    assert response.status_code == 200, response.text
    body: Body = response.json()
    return body


@pytest.fixture
async def population(session: AsyncSession) -> list[Any]:
    """Five customers. Essential: customers 1-3 (one contract each; customer 1's is new in
    October, customer 3's ends in October); Advantage: customers 4 and 5 (two contracts
    of customer 4); Complete: customer 1 alone. soc: customers 1, 2, 3."""
    customers = [rows.customer(n) for n in range(1, 6)]
    c = [
        rows.contract("cus_stats_1", start=date(2026, 10, 5), soc=True, license_ids=10),
        rows.contract("cus_stats_2", soc=True, license_ids=20),
        rows.contract("cus_stats_3", end=date(2026, 10, 20), soc=True, license_ids=30),
        rows.contract("cus_stats_4", plan="foundation-advantage", license_ids=40),
        rows.contract("cus_stats_4", plan="foundation-advantage", license_ids=40),
        rows.contract("cus_stats_5", plan="foundation-advantage", ad_integration=True),
        rows.contract("cus_stats_1", plan="complete-advantage", license_ids=100),
        # Ended before October: in no October figure.
        rows.contract("cus_stats_2", end=date(2026, 9, 30)),
    ]
    options = [rows.soc_period(k.id, k.service_start_on or date(2026, 6, 15)) for k in c[:3]]
    invoices = [
        rows.invoice(c[0], lines=[("basic", 50_000, True), ("early-termination", 9_000, False)]),
        rows.invoice(c[1], lines=[("basic", 50_000, True)], paid=55_000),
        rows.invoice(c[2], lines=[("basic", 50_000, True)], due_on=date(2026, 11, 10)),
        rows.invoice(c[3], lines=[("basic", 50_000, True)], due_on=date(2026, 11, 10)),
        rows.invoice(c[4], lines=[("basic", 99_999, True)], status="void"),
    ]
    payments = [rows.payment(invoices[1][0], 55_000, date(2026, 10, 31))]
    await rows.store(
        session,
        *customers,
        *c,
        *options,
        *(i for i, _ in invoices),
        *(line for _, lines in invoices for line in lines),
        *payments,
    )
    await session.commit()
    return c


async def test_r_ptn_3_contracts_by_plan_with_the_thin_cells_suppressed(
    client: httpx.AsyncClient, make_key: KeyFactory, population: list[Any]
) -> None:
    body = await _october(client, await make_key(Role.OPERATOR))
    contracts = body["contracts"]
    # 7 contracts of 5 customers served in October; 1 new (1 customer: hidden), 1 ended.
    assert contracts["total"] == {"active": fig(7), "new": HIDDEN, "ended": HIDDEN}
    plans = {p["plan"]: p for p in contracts["by_plan"]}
    assert plans["foundation-essential"]["active"] == fig(3)
    # Advantage (2 customers) is below 3; Complete (1) too: both hidden, so the total
    # minus Essential gives away only their sum.
    assert plans["foundation-advantage"]["active"] == HIDDEN
    assert plans["complete-advantage"]["active"] == HIDDEN


async def test_r_ptn_3_a_single_suppressed_cell_takes_the_next_smallest_with_it(
    client: httpx.AsyncClient, make_key: KeyFactory, population: list[Any], session: AsyncSession
) -> None:
    """With Advantage grown to 3 customers, Complete (1 customer) is the only thin cell:
    the smallest other plan cell is suppressed too, or total − shown = Complete."""
    extra = rows.contract("cus_stats_2", plan="foundation-advantage")
    await rows.store(session, extra)
    await session.commit()
    plans = {
        p["plan"]: p
        for p in (await _october(client, await make_key(Role.OPERATOR)))["contracts"]["by_plan"]
    }
    assert plans["complete-advantage"]["active"] == HIDDEN
    assert plans["foundation-essential"]["active"] == HIDDEN  # 3 contracts < 4
    assert plans["foundation-advantage"]["active"] == fig(4)


async def test_r_ptn_3_options_licences_and_money(
    client: httpx.AsyncClient, make_key: KeyFactory, population: list[Any]
) -> None:
    body = await _october(client, await make_key(Role.PARTNER))
    options = {o["option"]: o for o in body["contracts"]["by_option"]}
    assert options["soc"]["active"] == fig(3)
    assert options["soc"]["new"] == HIDDEN
    assert options["reserved_ip"]["active"] == fig(0)  # nobody: nothing to single out
    assert options["ad_integration"]["active"] == HIDDEN
    assert body["license_ids"] == fig(10 + 20 + 30 + 40 + 40 + 50 + 100)
    items = {(i["item"], i["tax_category"]): i["amount"] for i in body["invoiced"]["by_item"]}
    # The void invoice counts for nothing; 4 customers were billed the basic fee.
    assert items == {
        ("basic", "taxable"): fig(200_000),
        ("early-termination", "non_taxable"): HIDDEN,
    }
    assert body["invoiced"]["tax"] == fig(20_000)
    assert body["payments_received"] == {"count": HIDDEN, "amount": HIDDEN}  # one customer
    # Due 2026-11-10, unpaid on 2026-11-24: customers 3 and 4 — two, below three.
    assert body["invoices_overdue"] == {"count": HIDDEN, "balance": HIDDEN}


async def test_r_ptn_3_a_contract_with_two_option_periods_in_the_month_counts_once(
    client: httpx.AsyncClient, make_key: KeyFactory, population: list[Any], session: AsyncSession
) -> None:
    """soc removed on 10 October and added again on the 20th: one contract with soc in
    October, not two."""
    again = rows.contract("cus_stats_5", soc=True)
    first = rows.soc_period(again.id, date(2026, 6, 15))
    first.ends_on = date(2026, 10, 10)
    await rows.store(session, again, first, rows.soc_period(again.id, date(2026, 10, 20)))
    await session.commit()
    body = await _october(client, await make_key(Role.OPERATOR))
    options = {o["option"]: o for o in body["contracts"]["by_option"]}
    assert options["soc"]["active"] == fig(4)


async def test_r_ptn_3_the_threshold_is_the_setting(
    session: AsyncSession, population: list[Any]
) -> None:
    """SCMS_STATS_MIN_CUSTOMERS: with 2, the two overdue customers' figures are shown."""
    stats = await service.monthly(
        session, Month(2026, 10), today=date(2026, 11, 24), min_customers=2
    )
    assert stats.invoices_overdue.count.value == 2
    assert stats.invoices_overdue.balance.value == 2 * 55_000
    assert stats.payments_received.amount.suppressed


async def test_r_ptn_3_a_total_counts_a_customer_on_two_plans_once(
    session: AsyncSession, population: list[Any]
) -> None:
    """October's active contracts come from 5 customers, though the plan cells name 6
    (customer 1 is on Essential and on Complete): the total is shown from 5 customers
    and suppressed from 6, never taken for 6 by adding up the plans."""
    october = Month(2026, 10)
    today = date(2026, 11, 24)
    five = await service.monthly(session, october, today=today, min_customers=5)
    assert five.contracts.total.active.value == 7
    six = await service.monthly(session, october, today=today, min_customers=6)
    assert six.contracts.total.active.suppressed


async def test_r_ptn_3_tax_and_overdue_count_their_own_customers(
    session: AsyncSession, population: list[Any]
) -> None:
    """Tax comes from the 4 customers with a live October invoice (customer 4's void one
    adds none); the overdue figures from customers 3 and 4 alone, at the same threshold."""
    october = Month(2026, 10)
    today = date(2026, 11, 24)
    four = await service.monthly(session, october, today=today, min_customers=4)
    assert four.invoiced.tax.value == 20_000
    assert four.invoices_overdue.count.suppressed
    five = await service.monthly(session, october, today=today, min_customers=5)
    assert five.invoiced.tax.suppressed
    two = await service.monthly(session, october, today=today, min_customers=2)
    assert (two.invoices_overdue.count.value, two.invoices_overdue.balance.value) == (2, 110_000)


async def test_r_ptn_3_no_figure_names_or_identifies_a_customer(
    client: httpx.AsyncClient, make_key: KeyFactory, population: list[Any]
) -> None:
    response = await client.get(
        "/v1/stats/monthly", params={"month": "2026-10"}, headers=await make_key(Role.OPERATOR)
    )
    text = response.text
    for n in range(1, 6):
        for secret in (f"cus_stats_{n}", f"株式会社統計{n}", f"stats{n}@example.co.jp"):
            assert secret not in text
    assert "con_stats" not in text
    assert "inv_stats" not in text


async def test_a_month_without_contracts_is_all_zero(
    client: httpx.AsyncClient, make_key: KeyFactory
) -> None:
    body = await _october(client, await make_key(Role.OPERATOR), month="2030-01")
    assert body["month"] == "2030-01"
    assert body["contracts"]["total"] == {"active": fig(0), "new": fig(0), "ended": fig(0)}
    assert body["contracts"]["by_plan"] == []
    assert body["invoiced"]["by_item"] == []


@pytest.mark.parametrize("month", ["2026-13", "202610", "1999-01"])
async def test_a_bad_month_is_422(
    client: httpx.AsyncClient, make_key: KeyFactory, month: str
) -> None:
    response = await client.get(
        "/v1/stats/monthly", params={"month": month}, headers=await make_key(Role.OPERATOR)
    )
    assert response.status_code == 422


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.ADMIN, True),
        (Role.OPERATOR, True),
        (Role.PARTNER, True),
        (Role.CRM, False),
        (Role.PORTAL, False),
    ],
)
async def test_role_stats_are_for_admin_operator_and_partner(
    client: httpx.AsyncClient, make_key: KeyFactory, role: Role, allowed: bool
) -> None:
    customer = "cus_stats_portal" if role is Role.PORTAL else None
    response = await client.get(
        "/v1/stats/monthly",
        params={"month": "2026-10"},
        headers=await make_key(role, customer_id=customer),
    )
    assert response.status_code == (200 if allowed else 403), response.text
