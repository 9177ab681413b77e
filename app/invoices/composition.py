"""Turning charge lines into an invoice's rows: lines, subtotals and tax (R-CHG-4, R-INV-2)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from app.invoices.models import Invoice, InvoiceLine
from app.pricing.lines import ChargeLine, totals


@dataclass(frozen=True, slots=True)
class DraftLine:
    """A line to invoice; ``charge_id`` when it comes from the charge ledger."""

    line: ChargeLine
    charge_id: str | None = None


@dataclass(frozen=True, slots=True)
class Issuer:
    name: str
    registration_number: str


def compose(
    *,
    invoice_id: str,
    number: str,
    contract_id: str,
    customer_id: str,
    kind: str,
    month: str,
    issued_on: date,
    due_on: date,
    recipient_name: str,
    issuer: Issuer,
    tax_rate_percent: Decimal,
    lines: Sequence[DraftLine],
    billing_run_id: str | None = None,
) -> tuple[Invoice, list[InvoiceLine]]:
    """An issued invoice and its lines; tax once per invoice on the taxable subtotal."""
    sums = totals([d.line for d in lines], tax_rate_percent)
    invoice = Invoice(
        id=invoice_id,
        number=number,
        contract_id=contract_id,
        customer_id=customer_id,
        kind=kind,
        month=month,
        monthly_month=month if kind == "monthly" else None,
        issued_on=issued_on,
        due_on=due_on,
        recipient_name=recipient_name,
        issuer_name=issuer.name,
        issuer_registration_number=issuer.registration_number,
        tax_rate_percent=str(tax_rate_percent),
        taxable_subtotal=sums.taxable_subtotal,
        tax=sums.tax,
        non_taxable_subtotal=sums.non_taxable_subtotal,
        total=sums.total,
        amount_paid=0,
        status="issued",
        billing_run_id=billing_run_id,
    )
    rows = [
        InvoiceLine(
            invoice_id=invoice_id,
            position=position,
            item=d.line.item,
            description=d.line.description,
            quantity=d.line.quantity,
            unit_price=d.line.unit_price,
            amount=d.line.amount,
            taxable=d.line.taxable,
            rule=d.line.rule,
            charge_id=d.charge_id,
        )
        for position, d in enumerate(lines, start=1)
    ]
    return invoice, rows
