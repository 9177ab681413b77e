"""Invoices for the receivables tests, issued directly (compose + allocate + add), so these
tests do not depend on the bill run: the same path an issue-at-once invoice takes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from app.charges.repository import ChargeRepository
from app.core.clock import FixedClock
from app.core.ids import new_id
from app.customers.service import BillingRecipient
from app.invoices import numbering
from app.invoices.composition import DraftLine, Issuer, compose
from app.price_books.service import load_price_books
from app.pricing.calendar import Month
from app.pricing.lines import ChargeLine
from app.pricing.recurring import ContractShape, monthly_lines
from tests.invoices.billing_steps import active_contract
from tests.support.databases import BoundDatabase

Headers = dict[str, str]
ISSUER = Issuer("アルテリア・ネットワークス株式会社", "T1234567890123")


async def issue_invoice(
    session: AsyncSession,
    clock: FixedClock,
    *,
    contract_id: str,
    customer_id: str,
    month: str,
    lines: Sequence[ChargeLine],
    issued_on: date,
    due_on: date,
    kind: str = "monthly",
    bill_ledger: bool = True,
    recipient_name: str = "株式会社サンプル 経理部",
) -> str:
    """Issue an invoice of ``lines`` plus (``bill_ledger``) the contract's unbilled ledger
    charges of ``month`` (issue 9 §2), stamping them; returns its id. Commits."""
    repo = ChargeRepository(session)
    charges = await repo.unbilled_due_rows([contract_id], month) if bill_ledger else []
    drafts = [DraftLine(line) for line in lines] + [
        DraftLine(
            ChargeLine(
                c.item, c.description, c.quantity, c.unit_price, c.amount, c.taxable, c.rule
            ),
            c.id,
        )
        for c in charges
    ]
    (number,) = await numbering.allocate(session, numbering.INVOICE_SERIES, issued_on.year, 1)
    invoice, rows = compose(
        invoice_id=new_id("inv"),
        number=number,
        contract_id=contract_id,
        customer_id=customer_id,
        kind=kind,
        month=month,
        issued_on=issued_on,
        due_on=due_on,
        recipient=BillingRecipient(recipient_name),
        issuer=ISSUER,
        tax_rate_percent=Decimal(10),
        lines=drafts,
        created_at=clock.now(),
    )
    session.add(invoice)
    await session.flush()
    session.add_all(rows)
    await session.flush()
    if charges:
        await repo.mark_billed_many({c.id: invoice.id for c in charges}, clock.now())
    await session.commit()
    return invoice.id


async def monthly_invoice(
    database: BoundDatabase,
    clock: FixedClock,
    contract: dict[str, Any],
    month: str,
    **overrides: Any,
) -> str:
    """The monthly invoice of ``contract`` (no licence changes) for ``month``, issued on
    the first day of the next month and due at its end, as the bill run would."""
    shape = ContractShape(
        contract["plan"],
        contract["license_ids"],
        frozenset(o for o in ("soc", "reserved_ip") if contract["options"][o]),
    )
    async with database.sessionmaker() as session:
        books = await load_price_books(session)
        next_month = Month.parse(month) + 1
        return await issue_invoice(
            session,
            clock,
            contract_id=contract["id"],
            customer_id=contract["customer_id"],
            month=month,
            lines=monthly_lines(books.for_month(Month.parse(month)), shape),
            issued_on=overrides.pop("issued_on", next_month.first_day),
            due_on=overrides.pop("due_on", next_month.last_day),
            **overrides,
        )


async def example_a_june(
    client: httpx.AsyncClient, headers: Headers, database: BoundDatabase, clock: FixedClock
) -> tuple[dict[str, Any], str]:
    """Worked example A and its June invoice: 707,300 issued 2026-07-01, due 2026-07-31."""
    contract = await active_contract(client, headers)
    return contract, await monthly_invoice(database, clock, contract, "2026-06")


async def pay(
    client: httpx.AsyncClient, headers: Headers, invoice_id: str, paid_on: str, amount: int
) -> httpx.Response:
    return await client.post(
        f"/v1/invoices/{invoice_id}/payments",
        json={"paid_on": paid_on, "amount": amount, "reference": "振込 1234"},
        headers=headers,
    )


async def pay_ok(
    client: httpx.AsyncClient, headers: Headers, invoice_id: str, paid_on: str, amount: int
) -> dict[str, Any]:
    response = await pay(client, headers, invoice_id, paid_on, amount)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body
