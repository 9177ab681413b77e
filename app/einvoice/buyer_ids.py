"""The buyer's identifiers an invoice was issued under (issue 14 §2, §4)."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.customers.models import Customer
from app.einvoice.documents import BuyerIds
from app.einvoice.models import InvoiceBuyerIds
from app.invoices.models import Invoice

FIELDS = ("corporate_number", "registration_number", "peppol_id")


async def freeze_before_change(session: AsyncSession, customer: Customer) -> None:
    """Copy the customer's current identifiers to each of its invoices that has no copy
    yet: call it before they change. One INSERT … SELECT, however many invoices."""
    frozen = select(InvoiceBuyerIds.invoice_id)
    source = select(
        Invoice.id,
        *(Customer.__table__.c[name] for name in FIELDS),
    ).join(Customer, Customer.id == Invoice.customer_id)
    source = source.where(Invoice.customer_id == customer.id, Invoice.id.not_in(frozen))
    await session.execute(insert(InvoiceBuyerIds).from_select(["invoice_id", *FIELDS], source))


async def buyer_ids_of(session: AsyncSession, invoice: Invoice) -> BuyerIds:
    """The copy made before a change, else the customer's (unchanged since the issue)."""
    frozen = await session.get(InvoiceBuyerIds, invoice.id)
    if frozen is not None:
        return BuyerIds(frozen.corporate_number, frozen.registration_number, frozen.peppol_id)
    customer = await session.get(Customer, invoice.customer_id)
    if customer is None:
        return BuyerIds()
    return BuyerIds(customer.corporate_number, customer.registration_number, customer.peppol_id)
