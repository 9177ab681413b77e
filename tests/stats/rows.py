"""Contracts, invoices and payments written straight to the tables, for aggregates.

Statistics only count; driving each contract through the API would cost seconds a
contract. The rows are what the API would have stored.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.contracts.models import Contract, ContractOption
from app.customers.models import Customer
from app.invoices.models import Invoice, InvoiceLine, Payment

NOW = datetime(2026, 11, 24, 1, tzinfo=UTC)
_seq = itertools.count(1)


def customer(n: int) -> Customer:
    return Customer(
        id=f"cus_stats_{n}",
        name=f"株式会社統計{n}",
        billing_name=f"株式会社統計{n} 経理部",
        email=f"stats{n}@example.co.jp",
        created_at=NOW,
        updated_at=NOW,
    )


def contract(
    customer_id: str,
    *,
    plan: str = "foundation-essential",
    start: date = date(2026, 6, 15),
    end: date | None = None,
    license_ids: int = 50,
    soc: bool = False,
    ad_integration: bool = False,
) -> Contract:
    seq = next(_seq)
    return Contract(
        id=f"con_stats_{seq}",
        customer_id=customer_id,
        status="terminated" if end is not None and end < date(2026, 11, 24) else "active",
        plan=plan,
        license_ids=license_ids,
        soc=soc,
        reserved_ip=False,
        ad_integration=ad_integration,
        onboarding_kind="simple",
        received_on=date(2026, 4, 1),
        arrival_seq=100_000 + seq,
        planned_installation_on=date(2026, 5, 1),
        administrators=[],
        accepted_on=date(2026, 4, 2),
        onboarding_started_on=date(2026, 5, 1),
        service_start_on=start,
        termination_effective_on=end,
        termination_reason="contractor_convenience" if end else None,
        version=1,
        created_at=NOW,
        updated_at=NOW,
    )


def soc_period(contract_id: str, starts_on: date) -> ContractOption:
    return ContractOption(
        id=f"opt_stats_{next(_seq)}", contract_id=contract_id, option="soc", starts_on=starts_on
    )


def invoice(
    contract: Contract,
    *,
    month: str = "2026-10",
    lines: list[tuple[str, int, bool]],
    paid: int = 0,
    due_on: date = date(2026, 11, 30),
    status: str = "issued",
) -> tuple[Invoice, list[InvoiceLine]]:
    seq = next(_seq)
    taxable = sum(a for _, a, t in lines if t)
    non_taxable = sum(a for _, a, t in lines if not t)
    tax = taxable // 10
    inv = Invoice(
        id=f"inv_stats_{seq}",
        number=f"S-{seq:06d}",
        contract_id=contract.id,
        customer_id=contract.customer_id,
        kind="monthly",
        month=month,
        monthly_month=month if status != "void" else None,
        issued_on=date(2026, 11, 1),
        due_on=due_on,
        recipient_name="x",
        issuer_name="x",
        issuer_registration_number="T0000000000000",
        tax_rate_percent="10",
        taxable_subtotal=taxable,
        tax=tax,
        non_taxable_subtotal=non_taxable,
        total=taxable + tax + non_taxable,
        amount_paid=paid,
        status=status,
        created_at=NOW,
    )
    rows = [
        InvoiceLine(
            invoice_id=inv.id,
            position=i,
            item=item,
            description=item,
            quantity=1,
            unit_price=amount,
            amount=amount,
            taxable=is_taxable,
            rule="R-CHG-1",
        )
        for i, (item, amount, is_taxable) in enumerate(lines, start=1)
    ]
    return inv, rows


def payment(inv: Invoice, amount: int, paid_on: date) -> Payment:
    return Payment(
        id=f"pay_stats_{next(_seq)}",
        invoice_id=inv.id,
        paid_on=paid_on,
        amount=amount,
        created_by="key_1",
        created_at=NOW,
    )


async def store(session: AsyncSession, *rows: Any) -> None:
    """Add rows parents first (the foreign keys are checked at each flush)."""
    for row in rows:
        session.add(row)
        await session.flush()
