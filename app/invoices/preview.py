"""The invoice preview (API.md): a contract's monthly invoice for any month, not stored.

For a month already invoiced it shows the stored invoice (``invoiced: true``, with its
number), never a recomputation that could differ from what was issued (R-INV-4). For any
other month it shows the draft a bill run would issue now (``drafting``): the month's
recurring lines and the month's unbilled ledger charges. Outside the contract's
service months nothing would be issued: ``billable: false`` and no lines. Its dates are
those of a run started ``today`` (``issue_dates``), and its ledger lines only the charges
of the month itself (issue 9 §2): a later month's preview never shows an earlier one's.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.contracts.billing import subject as billing_subject
from app.contracts.models import Contract
from app.core.settings import Settings
from app.customers.service import billing_recipients
from app.invoices.billing_schemas import (
    InvoicePreviewRead,
    PreviewIssuer,
    PreviewLine,
    PreviewRecipient,
)
from app.invoices.drafting import draft_for
from app.invoices.issue_dates import invoice_dates
from app.invoices.models import Invoice, InvoiceLine
from app.price_books.service import load_price_books
from app.pricing.calendar import Month


async def _stored(session: AsyncSession, invoice: Invoice) -> InvoicePreviewRead:
    lines = await session.scalars(
        select(InvoiceLine)
        .where(InvoiceLine.invoice_id == invoice.id)
        .order_by(InvoiceLine.position)
    )
    return InvoicePreviewRead(
        contract_id=invoice.contract_id,
        month=invoice.month,
        invoiced=True,
        billable=True,
        invoice_id=invoice.id,
        number=invoice.number,
        issued_on=invoice.issued_on,
        due_on=invoice.due_on,
        recipient=PreviewRecipient(customer_id=invoice.customer_id, name=invoice.recipient_name),
        issuer=PreviewIssuer(
            name=invoice.issuer_name, registration_number=invoice.issuer_registration_number
        ),
        lines=[
            PreviewLine(
                item=line.item,
                description=line.description,
                quantity=line.quantity,
                unit_price=line.unit_price,
                amount=line.amount,
                taxable=line.taxable,
                rule=line.rule,
                charge_id=line.charge_id,
            )
            for line in lines
        ],
        tax_rate_percent=invoice.tax_rate_percent,
        taxable_subtotal=invoice.taxable_subtotal,
        tax=invoice.tax,
        non_taxable_subtotal=invoice.non_taxable_subtotal,
        total=invoice.total,
    )


async def preview(
    session: AsyncSession, contract: Contract, month: Month, settings: Settings, today: date
) -> InvoicePreviewRead:
    stored = await session.scalar(
        select(Invoice).where(
            Invoice.contract_id == contract.id, Invoice.monthly_month == str(month)
        )
    )
    if stored is not None:
        return await _stored(session, stored)
    books = await load_price_books(session)
    subject = await billing_subject(session, contract)
    timeline = subject.timeline if subject is not None else None
    billable = (
        timeline is not None
        and timeline.first_month <= month
        and (timeline.last_month is None or month <= timeline.last_month)
    )
    issued_on, due_on = invoice_dates(month, today, settings)
    recipients = await billing_recipients(session, [contract.customer_id])
    recipient = recipients[contract.customer_id].name
    lines: list[PreviewLine] = []
    tax_rate = books.for_month(month).tax_rate_percent
    taxable = tax = non_taxable = total = 0
    if billable and subject is not None:
        draft = await draft_for(session, subject, month, books)
        lines = [
            PreviewLine(
                item=d.line.item,
                description=d.line.description,
                quantity=d.line.quantity,
                unit_price=d.line.unit_price,
                amount=d.line.amount,
                taxable=d.line.taxable,
                rule=d.line.rule,
                charge_id=d.charge_id,
            )
            for d in draft.lines
        ]
        sums = draft.totals
        taxable, tax = sums.taxable_subtotal, sums.tax
        non_taxable, total = sums.non_taxable_subtotal, sums.total
    return InvoicePreviewRead(
        contract_id=contract.id,
        month=str(month),
        invoiced=False,
        billable=billable,
        invoice_id=None,
        number=None,
        issued_on=issued_on,
        due_on=due_on,
        recipient=PreviewRecipient(customer_id=contract.customer_id, name=recipient),
        issuer=PreviewIssuer(
            name=settings.issuer_name, registration_number=settings.issuer_registration_number
        ),
        lines=lines,
        tax_rate_percent=format(tax_rate, "f"),
        taxable_subtotal=taxable,
        tax=tax,
        non_taxable_subtotal=non_taxable,
        total=total,
    )
