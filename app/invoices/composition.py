"""Turning charge lines into an invoice's rows: lines, subtotals and tax (R-CHG-4, R-INV-2)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from app.customers.service import BillingRecipient
from app.invoices.models import Invoice, InvoiceLine
from app.pricing.lines import ChargeLine, InvoiceTotals, totals

# Column order of the plain rows below (the bill run COPYs them in this order).
INVOICE_COLUMNS = (
    "id",
    "number",
    "contract_id",
    "customer_id",
    "kind",
    "month",
    "monthly_month",
    "issued_on",
    "due_on",
    "recipient_name",
    "issuer_name",
    "issuer_registration_number",
    "issuer_snapshot_id",
    "recipient_reference",
    "license_ids",
    "plan",
    "tax_rate_percent",
    "taxable_subtotal",
    "tax",
    "non_taxable_subtotal",
    "total",
    "amount_paid",
    "status",
    "billing_run_id",
    "created_at",
)
LINE_COLUMNS = (
    "invoice_id",
    "position",
    "item",
    "description",
    "quantity",
    "unit_price",
    "amount",
    "taxable",
    "rule",
    "charge_id",
)


@dataclass(frozen=True, slots=True)
class DraftLine:
    """A line to invoice; ``charge_id`` when it comes from the charge ledger."""

    line: ChargeLine
    charge_id: str | None = None


@dataclass(frozen=True, slots=True)
class Issuer:
    """The issuer as the invoice records it; ``snapshot_id`` names its contact and
    accounts at issue (app/invoices/issuer.py)."""

    name: str
    registration_number: str
    snapshot_id: str | None = None


def compose_rows(
    *,
    invoice_id: str,
    number: str,
    contract_id: str,
    customer_id: str,
    kind: str,
    month: str,
    issued_on: date,
    due_on: date,
    recipient: BillingRecipient,
    issuer: Issuer,
    tax_rate_percent: Decimal,
    lines: Sequence[DraftLine],
    license_ids: int | None = None,
    plan: str | None = None,
    billing_run_id: str | None = None,
    created_at: datetime | None = None,
    sums: InvoiceTotals | None = None,
) -> tuple[tuple[Any, ...], list[tuple[Any, ...]]]:
    """The invoice row and its line rows as plain tuples (``INVOICE_COLUMNS``,
    ``LINE_COLUMNS`` order); tax once per invoice on the taxable subtotal (R-CHG-4).
    ``sums``: the lines' totals when the caller has them already."""
    if sums is None:
        sums = totals([d.line for d in lines], tax_rate_percent)
    invoice = (
        invoice_id,
        number,
        contract_id,
        customer_id,
        kind,
        month,
        month if kind == "monthly" else None,
        issued_on,
        due_on,
        recipient.name,
        issuer.name,
        issuer.registration_number,
        issuer.snapshot_id,
        recipient.reference,
        license_ids,
        plan,
        format(tax_rate_percent, "f"),
        sums.taxable_subtotal,
        sums.tax,
        sums.non_taxable_subtotal,
        sums.total,
        0,
        "issued",
        billing_run_id,
        created_at,
    )
    rows = [
        (
            invoice_id,
            position,
            d.line.item,
            d.line.description,
            d.line.quantity,
            d.line.unit_price,
            d.line.amount,
            d.line.taxable,
            d.line.rule,
            d.charge_id,
        )
        for position, d in enumerate(lines, start=1)
    ]
    return invoice, rows


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
    recipient: BillingRecipient,
    issuer: Issuer,
    tax_rate_percent: Decimal,
    lines: Sequence[DraftLine],
    license_ids: int | None = None,
    plan: str | None = None,
    billing_run_id: str | None = None,
    created_at: datetime | None = None,
) -> tuple[Invoice, list[InvoiceLine]]:
    """An issued invoice and its lines; tax once per invoice on the taxable subtotal."""
    invoice, rows = compose_rows(
        invoice_id=invoice_id,
        number=number,
        contract_id=contract_id,
        customer_id=customer_id,
        kind=kind,
        month=month,
        issued_on=issued_on,
        due_on=due_on,
        recipient=recipient,
        issuer=issuer,
        tax_rate_percent=tax_rate_percent,
        lines=lines,
        license_ids=license_ids,
        plan=plan,
        billing_run_id=billing_run_id,
        created_at=created_at,
    )
    values = dict(zip(INVOICE_COLUMNS, invoice, strict=True))
    if created_at is None:
        del values["created_at"]  # the caller sets it on the object, as before
    return Invoice(**values), [
        InvoiceLine(**dict(zip(LINE_COLUMNS, row, strict=True))) for row in rows
    ]
