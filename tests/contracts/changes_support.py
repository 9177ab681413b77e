"""Steps the contract-changes tests share: example contracts, the ledger, invoiced months.

Example B (DOMAIN.md §7) is active from 2026-06-15, its first term ends 2027-05-20 and its
monthly charge is 501,200; the test clock stands at 2026-11-24 (Tokyo).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.charges.models import Charge
from app.contracts.models import ContractEvent
from app.core.clock import FixedClock
from app.core.ids import new_id
from app.customers.service import BillingRecipient
from app.invoices import numbering
from app.invoices.composition import DraftLine, Issuer, compose
from app.pricing.calendar import Month
from app.pricing.lines import ChargeLine
from tests.support.databases import BoundDatabase
from tests.support.factories import EXAMPLE_B, activate, apply, create_customer

Headers = dict[str, str]
Body = dict[str, Any]

# Example B's application fields, typed loosely for ``**`` into helpers with typed kwargs.
B_FIELDS: dict[str, Any] = dict(EXAMPLE_B)
B_MONTHLY = 501_200
B_TERM_END = "2027-05-20"
ISSUER = Issuer("アルテリア・ネットワークス株式会社", "T1234567890123")


async def example_b(client: httpx.AsyncClient, headers: Headers, **overrides: Any) -> Body:
    """Worked example B, active (service start 2026-06-15)."""
    customer = await create_customer(client, headers)
    contract = await apply(client, headers, customer["id"], **{**EXAMPLE_B, **overrides})
    active = await activate(client, headers, contract)
    assert active["status"] == "active", active
    if not overrides:
        assert active["monthly_charge"] == B_MONTHLY
    return await _with_initial_charges(client, headers, active)


async def example_a(client: httpx.AsyncClient, headers: Headers, **overrides: Any) -> Body:
    """Worked example A (Foundation Essential, 50 IDs, no options, 93,000 a month), active."""
    customer = await create_customer(client, headers)
    contract = await apply(client, headers, customer["id"], **overrides)
    active = await activate(client, headers, contract)
    assert active["status"] == "active", active
    return await _with_initial_charges(client, headers, active)


async def _with_initial_charges(
    client: httpx.AsyncClient, headers: Headers, contract: Body
) -> Body:
    """Note the one-time items the activation put in the ledger (R-CHG-3), so that tests
    of changes can look at what the changes added (``ledger(..., contract)``)."""
    charges = await ledger(client, contract["id"], headers)
    return {**contract, "initial_charge_ids": sorted(c["id"] for c in charges)}


def problem(response: httpx.Response, status: int, code: str) -> Body:
    """Assert ``response`` is a problem+json of ``status`` and ``code``; return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: Body = response.json()
    assert body["code"] == code, body
    return body


async def ledger(client: httpx.AsyncClient, contract: str | Body, headers: Headers) -> list[Body]:
    """The contract's charge ledger (one page of 200), newest first; given the contract
    from ``example_a``/``example_b``, without the one-time items of its activation."""
    contract_id = contract if isinstance(contract, str) else contract["id"]
    initial = set() if isinstance(contract, str) else set(contract["initial_charge_ids"])
    response = await client.get(
        f"/v1/contracts/{contract_id}/charges", params={"limit": 200}, headers=headers
    )
    assert response.status_code == 200, response.text
    items: list[Body] = response.json()["items"]
    return [c for c in items if c["id"] not in initial]


async def read(client: httpx.AsyncClient, contract_id: str, headers: Headers) -> Body:
    response = await client.get(f"/v1/contracts/{contract_id}", headers=headers)
    assert response.status_code == 200, response.text
    body: Body = response.json()
    return body


async def event_types(session: AsyncSession, contract_id: str) -> list[str]:
    """The contract's event types, in the order they were written."""
    rows = await session.scalars(
        select(ContractEvent.type)
        .where(ContractEvent.contract_id == contract_id)
        .order_by(ContractEvent.occurred_at, ContractEvent.id)
        .execution_options(populate_existing=True)
    )
    return list(rows.all())


async def charge_count(session: AsyncSession, contract_id: str) -> int:
    value = await session.scalar(
        select(func.count()).select_from(Charge).where(Charge.contract_id == contract_id)
    )
    return int(value or 0)


async def invoice_month(
    database: BoundDatabase, clock: FixedClock, contract: Body, month: str
) -> str:
    """Issue a monthly invoice of ``contract`` for ``month`` (compose + allocate + add), so
    that the month counts as already invoiced. Returns the invoice id."""
    line = ChargeLine("basic", "基本料金", 1, 50_000, 50_000, True, "R-CHG-1")
    following = Month.parse(month) + 1
    async with database.sessionmaker() as session:
        issued_on: date = following.first_day
        (number,) = await numbering.allocate(session, numbering.INVOICE_SERIES, issued_on.year, 1)
        invoice, rows = compose(
            invoice_id=new_id("inv"),
            number=number,
            contract_id=contract["id"],
            customer_id=contract["customer_id"],
            kind="monthly",
            month=month,
            issued_on=issued_on,
            due_on=following.last_day,
            recipient=BillingRecipient("株式会社サンプル 経理部"),
            issuer=ISSUER,
            tax_rate_percent=Decimal(10),
            lines=[DraftLine(line)],
            created_at=clock.now(),
        )
        session.add(invoice)
        await session.flush()
        session.add_all(rows)
        await session.commit()
        return invoice.id
