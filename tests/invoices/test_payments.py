"""POST /v1/invoices/{id}/payments (R-INV-4) and the late charge a settling payment records
in the ledger (R-CHG-7, worked example F)."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditRecord
from app.charges.models import Charge
from app.core.clock import FixedClock
from tests.invoices.receivables_support import example_a_june, monthly_invoice, pay, pay_ok
from tests.support.databases import BoundDatabase

Headers = dict[str, str]


async def late_charges(session: AsyncSession, contract_id: str) -> list[Charge]:
    stmt = select(Charge).where(Charge.contract_id == contract_id, Charge.kind == "late-payment")
    return list((await session.scalars(stmt)).all())


async def test_example_f_paid_within_ten_days_records_nothing_r_chg_7(
    client: httpx.AsyncClient,
    admin: Headers,
    database: BoundDatabase,
    clock: FixedClock,
    session: AsyncSession,
) -> None:
    contract, invoice_id = await example_a_june(client, admin, database, clock)
    body = await pay_ok(client, admin, invoice_id, "2026-08-10", 707_300)
    assert body["invoice"]["status"] == "paid"
    assert body["invoice"]["balance"] == 0
    assert body["late_charge"] is None
    assert await late_charges(session, contract["id"]) == []


async def test_example_f_paid_on_the_eleventh_day_records_2809_once_r_chg_7(
    client: httpx.AsyncClient,
    admin: Headers,
    database: BoundDatabase,
    clock: FixedClock,
    session: AsyncSession,
) -> None:
    contract, invoice_id = await example_a_june(client, admin, database, clock)
    body = await pay_ok(client, admin, invoice_id, "2026-08-11", 707_300)
    assert body["invoice"]["status"] == "paid"
    # floor(707,300 × 14.5 % × 10 / 365) = 2,809, non-taxable, on the next invoice (July).
    assert body["late_charge"]["amount"] == 2_809
    assert body["late_charge"]["taxable"] is False
    assert body["late_charge"]["month"] == "2026-07"
    assert body["late_charge"]["invoice_id"] is None
    again = await pay(client, admin, invoice_id, "2026-08-12", 1)
    assert again.status_code == 422
    (charge,) = await late_charges(session, contract["id"])
    assert (charge.item, charge.amount, charge.taxable, charge.rule) == (
        "late-payment",
        2_809,
        False,
        "R-CHG-7",
    )
    assert charge.source == f"late-payment:{invoice_id}"
    assert "遅延損害金" in charge.description


async def test_example_f_two_payments_bear_7757_r_chg_7(
    client: httpx.AsyncClient,
    admin: Headers,
    database: BoundDatabase,
    clock: FixedClock,
    session: AsyncSession,
) -> None:
    contract, invoice_id = await example_a_june(client, admin, database, clock)
    first = await pay_ok(client, admin, invoice_id, "2026-08-05", 300_000)
    assert first["invoice"]["status"] == "overdue"
    assert first["invoice"]["balance"] == 407_300
    assert first["late_charge"] is None
    second = await pay_ok(client, admin, invoice_id, "2026-09-15", 407_300)
    # 4 days on 707,300 and 41 days on 407,300 → 7,757.
    assert second["late_charge"]["amount"] == 7_757
    assert second["invoice"]["status"] == "paid"
    assert [c.amount for c in await late_charges(session, contract["id"])] == [7_757]


async def test_late_charge_goes_to_the_month_after_the_last_invoiced_one_r_chg_7(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase, clock: FixedClock
) -> None:
    contract, june = await example_a_june(client, admin, database, clock)
    for month in ("2026-07", "2026-08", "2026-09"):
        await monthly_invoice(database, clock, contract, month)
    body = await pay_ok(client, admin, june, "2026-09-15", 707_300)
    assert body["late_charge"]["month"] == "2026-10"


async def test_overpayment_is_refused_with_the_balance(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase, clock: FixedClock
) -> None:
    _, invoice_id = await example_a_june(client, admin, database, clock)
    await pay_ok(client, admin, invoice_id, "2026-07-20", 700_000)
    response = await pay(client, admin, invoice_id, "2026-07-21", 7_301)
    assert response.status_code == 422
    problem = response.json()
    assert (problem["code"], problem["rule"], problem["balance"]) == (
        "overpayment",
        "R-INV-4",
        7_300,
    )
    paid = await pay_ok(client, admin, invoice_id, "2026-07-21", 7_300)
    assert paid["invoice"]["status"] == "paid"


@pytest.mark.parametrize("amount", [0, -1])
async def test_payment_amount_must_be_positive(
    client: httpx.AsyncClient,
    admin: Headers,
    database: BoundDatabase,
    clock: FixedClock,
    amount: int,
) -> None:
    _, invoice_id = await example_a_june(client, admin, database, clock)
    response = await pay(client, admin, invoice_id, "2026-07-20", amount)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "amount"


async def test_payment_dated_after_today_is_refused(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase, clock: FixedClock
) -> None:
    _, invoice_id = await example_a_june(client, admin, database, clock)
    response = await pay(client, admin, invoice_id, "2026-11-25", 1)
    assert response.status_code == 422
    assert response.json()["code"] == "payment_in_future"


async def test_void_invoice_takes_no_payment(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase, clock: FixedClock
) -> None:
    _, invoice_id = await example_a_june(client, admin, database, clock)
    voided = await client.post(
        f"/v1/invoices/{invoice_id}/void", json={"reason": "wrong address"}, headers=admin
    )
    assert voided.status_code == 200, voided.text
    response = await pay(client, admin, invoice_id, "2026-07-20", 1)
    assert response.status_code == 409
    assert (response.json()["code"], response.json()["allowed"]) == ("invalid_transition", [])


async def test_payment_is_audited_r_ptn_2(
    client: httpx.AsyncClient,
    admin: Headers,
    database: BoundDatabase,
    clock: FixedClock,
    session: AsyncSession,
) -> None:
    _, invoice_id = await example_a_june(client, admin, database, clock)
    body = await pay_ok(client, admin, invoice_id, "2026-08-11", 707_300)
    actions = (
        await session.scalars(
            select(AuditRecord.action).where(
                AuditRecord.resource_id.in_(
                    [invoice_id, body["payment"]["id"], body["late_charge"]["id"]]
                )
            )
        )
    ).all()
    assert sorted(actions) == ["charges.record", "invoices.pay", "payments.record"]
    invoice_audit = await session.scalar(
        select(AuditRecord).where(AuditRecord.action == "invoices.pay")
    )
    assert invoice_audit is not None
    assert invoice_audit.before is not None
    assert invoice_audit.after is not None
    assert (invoice_audit.before["status"], invoice_audit.after["status"]) == ("issued", "paid")
