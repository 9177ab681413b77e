"""The bill run through the API (R-INV-1, R-INV-2, R-INV-3, R-CHG-1..5, R-CAT-4).

Each test runs inside the rolled-back test transaction: the run's own batch transactions
become savepoints, which is enough for single-runner behaviour. Concurrency, kills and
the CLI are in test_bill_run_concurrency.py and test_bill_run_cli.py.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.charges.models import Charge
from app.contracts.models import Contract
from app.core.clock import FixedClock
from app.invoices.models import BillingRun, Invoice
from app.invoices.months import record_charges
from app.pricing.calendar import Month
from app.pricing.lines import ChargeLine
from tests.conftest import KeyFactory
from tests.contracts.steps import at
from tests.invoices.billing_steps import (
    active_contract,
    example_b,
    preview,
    run_month,
    start_run,
)
from tests.price_books.factories import price_book_body

Headers = dict[str, str]


async def _terminate(
    session: AsyncSession,
    clock: FixedClock,
    contract_id: str,
    effective_on: date,
    *,
    months: int,
    monthly: int,
) -> None:
    """A termination as the contract-changes feature records it: the date on the
    contract, the R-CHG-5 charge in the ledger for the termination month."""
    await session.execute(
        update(Contract)
        .where(Contract.id == contract_id)
        .values(termination_reason="contractor_request", termination_effective_on=effective_on)
    )
    line = ChargeLine(
        item="early-termination",
        description="解約金 (Art. 24)",
        quantity=months,
        unit_price=monthly,
        amount=months * monthly,
        taxable=False,
        rule="R-CHG-5",
    )
    await record_charges(
        session,
        contract_id=contract_id,
        lines=[line],
        kind="early-termination",
        month=Month.of(effective_on),
        source="termination",
        actor_key_id="test",
        clock=clock,
    )
    await session.commit()


def _amounts(invoice: dict[str, Any]) -> tuple[int, int, int, int]:
    return (
        invoice["taxable_subtotal"],
        invoice["tax"],
        invoice["non_taxable_subtotal"],
        invoice["total"],
    )


async def _charges(client: httpx.AsyncClient, headers: Headers, contract_id: str) -> list[Any]:
    response = await client.get(f"/v1/contracts/{contract_id}/charges", headers=headers)
    assert response.status_code == 200, response.text
    items: list[Any] = response.json()["items"]
    return items


async def test_example_a_june_invoice_carries_the_onboarding_item(
    client: httpx.AsyncClient, admin: Headers, clock: FixedClock
) -> None:
    """Worked example A, R-CHG-3 and R-INV-2: the first invoice holds the one-time item;
    run on the scheduled issue day, it is dated that day (R-INV-1, issue 9 §1)."""
    contract = await active_contract(client, admin)
    at(clock, date(2026, 7, 1))
    run = await run_month(client, admin, "2026-06")
    assert (run["invoices_created"], run["invoices_existing"], run["failed"]) == (1, 0, 0)
    assert run["dry_run"] is False
    assert run["finished_at"] is not None

    invoice = await preview(client, admin, contract["id"], "2026-06")
    assert invoice["invoiced"] is True
    assert invoice["number"] == "INV-2026-0000001"
    assert [(line["item"], line["quantity"], line["unit_price"], line["amount"])
            for line in invoice["lines"]] == [
        ("basic", 1, 50_000, 50_000),
        ("foundation-essential", 5, 8_600, 43_000),
        ("onboarding-simple", 1, 550_000, 550_000),
    ]  # fmt: skip
    assert all(line["taxable"] for line in invoice["lines"])
    assert _amounts(invoice) == (643_000, 64_300, 0, 707_300)
    assert (invoice["issued_on"], invoice["due_on"]) == ("2026-07-01", "2026-07-31")
    assert invoice["issuer"]["registration_number"] == "T0000000000000"
    assert invoice["issuer"]["name"]
    assert invoice["recipient"]["name"] == "株式会社サンプル 経理部"
    (one_time,) = await _charges(client, admin, contract["id"])
    assert one_time["invoice_id"] == invoice["invoice_id"]
    assert invoice["lines"][2]["charge_id"] == one_time["id"]


async def test_example_a_july_bills_the_monthly_charge_only(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    """Worked example A: July is 93,000 + 9,300 = 102,300; numbers follow on (R-INV-3).
    Run late (today 2026-11-24, scheduled 2026-08-01), it is dated today; 2026-11-30 is
    closer than 10 days, so it is due at the next month's end (R-INV-1, issue 9 §1)."""
    contract = await active_contract(client, admin)
    await run_month(client, admin, "2026-06")
    run = await run_month(client, admin, "2026-07")
    assert (run["issued_on"], run["scheduled_issue_on"], run["late"]) == (
        "2026-11-24",
        "2026-08-01",
        True,
    )
    assert run["invoices_created"] == 1
    july = await preview(client, admin, contract["id"], "2026-07")
    assert july["invoiced"] is True
    assert [line["item"] for line in july["lines"]] == ["basic", "foundation-essential"]
    assert _amounts(july) == (93_000, 9_300, 0, 102_300)
    assert july["number"] == "INV-2026-0000002"
    assert (july["issued_on"], july["due_on"]) == ("2026-11-24", "2026-12-31")


async def test_example_b_first_invoice(client: httpx.AsyncClient, admin: Headers) -> None:
    """Worked example B: 501,200 monthly + 1,000,000 + 350,000 one-time."""
    contract = await example_b(client, admin)
    await run_month(client, admin, "2026-06")
    invoice = await preview(client, admin, contract["id"], "2026-06")
    assert _amounts(invoice) == (1_851_200, 185_120, 0, 2_036_320)
    assert [line["item"] for line in invoice["lines"]] == [
        "basic",
        "complete-advantage",
        "soc-base",
        "soc-users",
        "reserved-ip",
        "onboarding-standard",
        "ad-integration",
    ]


async def test_a_new_price_book_version_prices_august_but_not_july(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    """R-CAT-4: a month is priced by the version in effect on its first day; once July
    is invoiced, a version may start in August but no longer in July."""
    contract = await active_contract(client, admin)
    await run_month(client, admin, "2026-06")
    await run_month(client, admin, "2026-07")
    closed = await client.post(
        "/v1/price-books", json=price_book_body("2026-07-01", basic=60_000), headers=admin
    )
    assert closed.status_code == 409, closed.text
    assert closed.json()["code"] == "price_book_month_invoiced"
    assert closed.json()["invoiced_through"] == "2026-07"
    created = await client.post(
        "/v1/price-books", json=price_book_body("2026-08-01", basic=60_000), headers=admin
    )
    assert created.status_code == 201, created.text
    await run_month(client, admin, "2026-08")
    july = await preview(client, admin, contract["id"], "2026-07")
    august = await preview(client, admin, contract["id"], "2026-08")
    assert july["lines"][0]["unit_price"] == 50_000
    assert august["lines"][0]["unit_price"] == 60_000
    assert _amounts(august) == (103_000, 10_300, 0, 113_300)


async def test_the_termination_month_bills_normally_with_its_early_termination_line(
    client: httpx.AsyncClient, admin: Headers, session: AsyncSession, clock: FixedClock
) -> None:
    """R-CHG-1 and R-CHG-5: October is billed in full, plus the non-taxable charge for
    November to May (7 × 93,000), and the ledger charge is stamped with the invoice."""
    contract = await active_contract(client, admin)
    await _terminate(session, clock, contract["id"], date(2026, 10, 10), months=7, monthly=93_000)
    await run_month(client, admin, "2026-06")
    run = await run_month(client, admin, "2026-10")
    assert run["invoices_created"] == 1
    october = await preview(client, admin, contract["id"], "2026-10")
    items = [(line["item"], line["amount"], line["taxable"]) for line in october["lines"]]
    assert items == [
        ("basic", 50_000, True),
        ("foundation-essential", 43_000, True),
        ("early-termination", 651_000, False),
    ]
    assert _amounts(october) == (93_000, 9_300, 651_000, 753_300)
    charges = {c["item"]: c for c in await _charges(client, admin, contract["id"])}
    assert charges["early-termination"]["invoice_id"] == october["invoice_id"]
    assert charges["early-termination"]["month"] == "2026-10"
    # After the termination month the contract bills no more (R-CHG-1).
    after = await preview(client, admin, contract["id"], "2026-12")
    assert (after["billable"], after["lines"], after["total"]) == (False, [], 0)


async def test_a_rerun_creates_nothing_and_leaves_the_ledger_alone(
    client: httpx.AsyncClient, admin: Headers, session: AsyncSession
) -> None:
    """R-INV-1: one monthly invoice per contract and month, however often it is run."""
    first = await active_contract(client, admin)
    second = await example_b(client, admin)
    await run_month(client, admin, "2026-06")
    before = (await session.execute(select(Charge.id, Charge.invoice_id, Charge.billed_at))).all()
    again = await run_month(client, admin, "2026-06")
    assert (again["invoices_created"], again["invoices_existing"], again["failed"]) == (0, 2, 0)
    after = (await session.execute(select(Charge.id, Charge.invoice_id, Charge.billed_at))).all()
    assert sorted(after) == sorted(before)
    counts = await session.execute(
        select(Invoice.contract_id, func.count()).group_by(Invoice.contract_id)
    )
    assert {c: n for c, n in counts} == {first["id"]: 1, second["id"]: 1}


async def test_a_dry_run_counts_but_stores_no_invoice(
    client: httpx.AsyncClient, admin: Headers, session: AsyncSession
) -> None:
    contract = await active_contract(client, admin)
    run = await run_month(client, admin, "2026-06", dry_run=True)
    assert run["dry_run"] is True
    assert (run["invoices_created"], run["invoices_existing"]) == (1, 0)
    assert await session.scalar(select(func.count()).select_from(Invoice)) == 0
    (charge,) = await _charges(client, admin, contract["id"])
    assert charge["invoice_id"] is None
    stored = await session.get(BillingRun, run["id"])
    assert stored is not None
    assert stored.dry_run
    real = await run_month(client, admin, "2026-06")
    assert real["invoices_created"] == 1
    assert (await preview(client, admin, contract["id"], "2026-06"))["number"] == (
        "INV-2026-0000001"
    )  # the dry run took no number


async def test_a_month_that_has_not_ended_is_refused(
    client: httpx.AsyncClient, admin: Headers, session: AsyncSession
) -> None:
    """R-INV-1: November 2026 is still running on 2026-11-24."""
    for month in ("2026-11", "2027-01"):
        response = await start_run(client, admin, month)
        assert response.status_code == 422, response.text
        body = response.json()
        assert (body["code"], body["rule"], body["month"]) == ("month_not_ended", "R-INV-1", month)
    assert body["earliest_run_on"] == "2027-02-01"
    assert await session.scalar(select(func.count()).select_from(BillingRun)) == 0
    bad = await client.post("/v1/billing-runs", json={"month": "2026-13"}, headers=admin)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"].endswith("month")


async def test_contracts_without_service_in_the_month_are_not_billed(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    """R-CHG-1: the service starts 2026-06-15, so May has nothing to bill."""
    contract = await active_contract(client, admin)
    run = await run_month(client, admin, "2026-05")
    assert (run["invoices_created"], run["invoices_existing"], run["failed"]) == (0, 0, 0)
    may = await preview(client, admin, contract["id"], "2026-05")
    assert (may["invoiced"], may["billable"], may["lines"]) == (False, False, [])


async def test_only_operators_and_admins_run_bills(
    client: httpx.AsyncClient, admin: Headers, make_key: KeyFactory
) -> None:
    run = await run_month(client, admin, "2026-06")
    operator = await make_key("operator")
    started = await start_run(client, operator, "2026-06")
    assert started.status_code == 202, started.text
    assert started.headers["location"] == f"/v1/billing-runs/{started.json()['id']}"
    assert (await client.get(f"/v1/billing-runs/{run['id']}", headers=operator)).status_code == 200
    for role in ("crm", "partner"):
        headers = await make_key(role)
        assert (await start_run(client, headers, "2026-06")).status_code == 403
        assert (await client.get("/v1/billing-runs", headers=headers)).status_code == 403
        assert (
            await client.get(f"/v1/billing-runs/{run['id']}", headers=headers)
        ).status_code == 403
    assert (await start_run(client, {}, "2026-06")).status_code == 401
    missing = await client.get("/v1/billing-runs/run_nope", headers=admin)
    assert (missing.status_code, missing.json()["code"]) == (404, "billing_run_not_found")


async def test_runs_are_listed_newest_first_with_a_cursor(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    ids = [(await run_month(client, admin, month))["id"] for month in ("2026-06", "2026-07")]
    first = await client.get("/v1/billing-runs", params={"limit": 1}, headers=admin)
    assert first.status_code == 200
    assert [r["id"] for r in first.json()["items"]] == [ids[1]]
    cursor = first.json()["next_cursor"]
    second = await client.get(
        "/v1/billing-runs", params={"limit": 1, "cursor": cursor}, headers=admin
    )
    assert [r["id"] for r in second.json()["items"]] == [ids[0]]
    assert second.json()["next_cursor"] is None


async def test_a_charge_arising_after_the_last_service_month_still_reaches_an_invoice(
    client: httpx.AsyncClient, admin: Headers, session: AsyncSession, clock: FixedClock
) -> None:
    """R-INV-1 and R-CHG-7: a late charge on the final invoice is due on a month with no
    service left; the bill run of that month still issues it, and only then."""
    contract = await active_contract(client, admin)
    await session.execute(
        update(Contract)
        .where(Contract.id == contract["id"])
        .values(termination_reason="non_renewal", termination_effective_on=date(2026, 8, 10))
    )
    late = ChargeLine(
        item="late-payment",
        description="遅延損害金",
        quantity=1,
        unit_price=2_809,
        amount=2_809,
        taxable=False,
        rule="R-CHG-7",
    )
    await record_charges(
        session,
        contract_id=contract["id"],
        lines=[late],
        kind="late-payment",
        month=Month(2026, 10),
        source="late-payment:test",
        actor_key_id="test",
        clock=clock,
    )
    await session.commit()
    for month in ("2026-06", "2026-07", "2026-08"):
        assert (await run_month(client, admin, month))["invoices_created"] == 1
    september = await run_month(client, admin, "2026-09")
    assert september["invoices_created"] == 0
    october = await run_month(client, admin, "2026-10")
    assert october["invoices_created"] == 1
    issued = await preview(client, admin, contract["id"], "2026-10")
    assert [(line["item"], line["amount"]) for line in issued["lines"]] == [("late-payment", 2_809)]
    assert _amounts(issued) == (0, 0, 2_809, 2_809)


async def test_a_rerun_still_bills_a_contract_that_became_billable_after_the_first_run(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    """R-INV-1: a re-run that finds as many invoices as billing contracts has nothing to
    do — but a contract activated later, back-dated into the month, is still billed."""
    await active_contract(client, admin)
    assert (await run_month(client, admin, "2026-06"))["invoices_created"] == 1
    assert (await run_month(client, admin, "2026-06"))["invoices_existing"] == 1
    await active_contract(client, admin)
    again = await run_month(client, admin, "2026-06")
    assert (again["invoices_created"], again["invoices_existing"]) == (1, 1)
