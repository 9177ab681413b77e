"""Cancellation invoices issued at once (R-CHG-6, R-INV-1: their own kind; worked example E)
and the refund of paid one-time items when the contractor is not at fault (Art. 9.4)."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.roles import Role
from app.auth.service import Principal
from app.charges.models import Charge
from app.contracts.models import Contract
from app.contracts.read_model import shape_of
from app.core.clock import FixedClock
from app.core.errors import Conflict, Unprocessable
from app.core.settings import Settings
from app.invoices.cancellation_invoices import (
    issue_cancellation_invoice,
    refund_paid_one_time,
)
from app.invoices.months import record_charges
from app.price_books.service import load_price_books
from app.pricing.calendar import Month
from app.pricing.cancellation import cancellation_fee
from app.pricing.catalogue import ChargeKind
from tests.invoices.receivables_support import example_a_june, pay_ok
from tests.support.databases import BoundDatabase
from tests.support.factories import EXAMPLE_B, apply, create_customer, post_ok

Headers = dict[str, str]
OPERATOR = Principal(key_id="key_test_operator", role=Role.OPERATOR)
COSTS = [("ソフトウェア手配代金", 200_000)]


async def accepted_b(
    client: httpx.AsyncClient, headers: Headers, *, onboarding_started: bool
) -> dict[str, Any]:
    customer = await create_customer(client, headers)
    contract = await apply(client, headers, customer["id"], **EXAMPLE_B)
    base = f"/v1/contracts/{contract['id']}"
    accepted = await post_ok(client, f"{base}/accept", headers, {"out_of_order_reason": "test"})
    if onboarding_started:
        return await post_ok(
            client, f"{base}/onboarding/start", headers, {"started_on": "2026-05-20"}
        )
    return accepted


async def cancel(
    session: AsyncSession,
    settings: Settings,
    clock: FixedClock,
    contract_id: str,
    *,
    onboarding_started: bool,
    cancelled_on: date = date(2026, 11, 20),
) -> str:
    """What the contracts feature does: price the fee, record it, invoice it at once."""
    contract = await session.get(Contract, contract_id)
    assert contract is not None
    book = (await load_price_books(session)).for_date(contract.received_on)
    fee = cancellation_fee(
        book,
        shape_of(contract),
        contract.onboarding_kind,
        contract.ad_integration,
        onboarding_started,
        COSTS,
        contractor_at_fault=True,
    )
    recorded = await record_charges(
        session,
        contract_id=contract.id,
        lines=fee.lines,
        kind=ChargeKind.CANCELLATION,
        month=Month.of(cancelled_on),
        source="cancellation",
        actor_key_id=OPERATOR.key_id,
        clock=clock,
    )
    invoice = await issue_cancellation_invoice(
        session,
        contract_id=contract.id,
        customer_id=contract.customer_id,
        lines=fee.lines,
        charge_ids=[c.id for c in recorded],
        cancelled_on=cancelled_on,
        settings=settings,
        clock=clock,
        actor=OPERATOR,
    )
    await session.commit()
    return invoice.id


async def test_example_e_before_onboarding_start_is_1_705_000_r_chg_6(
    client: httpx.AsyncClient,
    admin: Headers,
    session: AsyncSession,
    settings: Settings,
    clock: FixedClock,
) -> None:
    contract = await accepted_b(client, admin, onboarding_started=False)
    invoice_id = await cancel(session, settings, clock, contract["id"], onboarding_started=False)
    body = (await client.get(f"/v1/invoices/{invoice_id}", headers=admin)).json()
    assert (body["kind"], body["month"], body["status"]) == ("cancellation", "2026-11", "issued")
    # Issued at once (today), due at the end of the next month.
    assert (body["issued_on"], body["due_on"]) == ("2026-11-24", "2026-12-31")
    assert body["number"].startswith("INV-2026-")
    assert [(line["item"], line["amount"]) for line in body["lines"]] == [
        ("cancellation", 1_000_000),
        ("cancellation", 350_000),
        ("cancellation", 200_000),
    ]
    assert (body["taxable_subtotal"], body["tax"], body["total"]) == (1_550_000, 155_000, 1_705_000)
    assert body["issuer"]["registration_number"] == settings.issuer_registration_number
    stamped = (
        await session.scalars(select(Charge.invoice_id).where(Charge.contract_id == contract["id"]))
    ).all()
    assert stamped == [invoice_id] * 3


async def test_example_e_after_onboarding_start_is_8_320_840_r_chg_6(
    client: httpx.AsyncClient,
    admin: Headers,
    session: AsyncSession,
    settings: Settings,
    clock: FixedClock,
) -> None:
    contract = await accepted_b(client, admin, onboarding_started=True)
    invoice_id = await cancel(session, settings, clock, contract["id"], onboarding_started=True)
    body = (await client.get(f"/v1/invoices/{invoice_id}", headers=admin)).json()
    assert body["lines"][-1]["quantity"] == 12
    assert body["lines"][-1]["unit_price"] == 501_200
    assert (body["taxable_subtotal"], body["tax"], body["total"]) == (7_564_400, 756_440, 8_320_840)
    # Its own kind: it takes no monthly slot (R-INV-1).
    listed = await client.get(
        "/v1/invoices", params={"contract_id": contract["id"], "month": "2026-11"}, headers=admin
    )
    assert [i["kind"] for i in listed.json()["items"]] == ["cancellation"]


async def test_charges_already_on_an_invoice_are_not_billed_twice(
    client: httpx.AsyncClient,
    admin: Headers,
    session: AsyncSession,
    settings: Settings,
    clock: FixedClock,
) -> None:
    contract = await accepted_b(client, admin, onboarding_started=False)
    await cancel(session, settings, clock, contract["id"], onboarding_started=False)
    with pytest.raises(Conflict) as refused:
        await cancel(session, settings, clock, contract["id"], onboarding_started=False)
    assert refused.value.code == "charges_already_billed"


async def test_nothing_to_invoice_is_refused(
    session: AsyncSession, settings: Settings, clock: FixedClock
) -> None:
    with pytest.raises(Unprocessable):
        await issue_cancellation_invoice(
            session,
            contract_id="ctr_x",
            customer_id="cus_x",
            lines=[],
            charge_ids=[],
            cancelled_on=date(2026, 11, 20),
            settings=settings,
            clock=clock,
            actor=OPERATOR,
        )


async def test_not_at_fault_refunds_paid_one_time_items_once_art_9_4(
    client: httpx.AsyncClient,
    admin: Headers,
    database: BoundDatabase,
    session: AsyncSession,
    clock: FixedClock,
    settings: Settings,
) -> None:
    contract, invoice_id = await example_a_june(client, admin, database, clock)
    await pay_ok(client, admin, invoice_id, "2026-07-20", 707_300)
    notes = await refund_paid_one_time(
        session,
        contract_id=contract["id"],
        reason="当社都合による取消",
        clock=clock,
        actor=OPERATOR,
        settings=settings,
    )
    await session.commit()
    (note,) = notes
    assert note.invoice_id == invoice_id
    assert (note.taxable_subtotal, note.tax, note.total) == (550_000, 55_000, 605_000)
    assert note.lines[0]["amount"] == 550_000
    again = await refund_paid_one_time(
        session,
        contract_id=contract["id"],
        reason="retry",
        clock=clock,
        actor=OPERATOR,
        settings=settings,
    )
    assert again == []
    body = (await client.get(f"/v1/invoices/{invoice_id}", headers=admin)).json()
    assert (body["status"], body["amount_credited"], body["balance"]) == ("paid", 605_000, -605_000)


async def test_unpaid_one_time_items_are_not_refunded(
    client: httpx.AsyncClient,
    admin: Headers,
    database: BoundDatabase,
    session: AsyncSession,
    clock: FixedClock,
    settings: Settings,
) -> None:
    contract, _ = await example_a_june(client, admin, database, clock)
    notes = await refund_paid_one_time(
        session,
        contract_id=contract["id"],
        reason="x",
        clock=clock,
        actor=OPERATOR,
        settings=settings,
    )
    assert notes == []
