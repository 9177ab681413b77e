"""Credit notes (返還インボイス, R-INV-4): the only way to correct an issued invoice.

Numbered in their own gapless series per issue year (R-INV-3). Tax is computed once per
credit note on its taxable subtotal at the invoice's rate (R-CHG-4); the note that credits
the last of the invoice's taxable subtotal takes exactly the tax still uncredited, so
credits that add up to the whole invoice return exactly its tax, never a yen more or less.
A note may credit neither more taxable nor more non-taxable amount than the invoice bore.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import snapshot
from app.auth.service import Principal
from app.core.clock import Clock
from app.core.errors import Unprocessable
from app.core.ids import new_id
from app.core.settings import Settings
from app.events.catalogue import EventType
from app.events.outbox import record_event
from app.invoices import numbering
from app.invoices.issuer import issuer_at_issue
from app.invoices.models import CreditNote, Invoice
from app.invoices.receivables import (
    load,
    publish,
    refuse,
    settled_status,
    view_of,
    write_audit,
)
from app.invoices.schemas import CreditNoteCreate, CreditNoteRead
from app.pricing.lines import tax_on

RULE = "R-INV-4"


@dataclass(frozen=True, slots=True)
class CreditLine:
    """A credited amount (positive yen, before tax); ``charge_id`` when it refunds a charge."""

    description: str
    amount: int
    taxable: bool
    charge_id: str | None = None

    def as_json(self) -> dict[str, Any]:
        row: dict[str, Any] = {
            "description": self.description,
            "amount": self.amount,
            "taxable": self.taxable,
        }
        if self.charge_id is not None:
            row["charge_id"] = self.charge_id
        return row


@dataclass(frozen=True, slots=True)
class CreditTotals:
    taxable_subtotal: int
    tax: int
    non_taxable_subtotal: int
    total: int


def credit_totals(
    invoice: Invoice, already: Sequence[CreditNote], lines: Sequence[CreditLine]
) -> CreditTotals:
    """The totals of a new credit note on ``invoice`` after the notes ``already`` issued.

    Raises 422 ``credit_exceeds_invoice`` when it would credit more than the invoice bore.
    """
    taxable = sum(line.amount for line in lines if line.taxable)
    non_taxable = sum(line.amount for line in lines if not line.taxable)
    taxable_before = sum(n.taxable_subtotal for n in already)
    non_taxable_before = sum(n.non_taxable_subtotal for n in already)
    tax_before = sum(n.tax for n in already)
    if (
        taxable_before + taxable > invoice.taxable_subtotal
        or non_taxable_before + non_taxable > invoice.non_taxable_subtotal
    ):
        raise Unprocessable(
            f"The credit would exceed invoice {invoice.number}: at most "
            f"{invoice.taxable_subtotal - taxable_before:,} taxable and "
            f"{invoice.non_taxable_subtotal - non_taxable_before:,} non-taxable yen "
            "(before tax) can still be credited.",
            code="credit_exceeds_invoice",
            rule=RULE,
            creditable_taxable=invoice.taxable_subtotal - taxable_before,
            creditable_non_taxable=invoice.non_taxable_subtotal - non_taxable_before,
            creditable_total=invoice.total - sum(n.total for n in already),
        )
    if taxable_before + taxable == invoice.taxable_subtotal:
        tax = invoice.tax - tax_before  # the last taxable credit takes the tax left
    else:
        tax = tax_on(taxable, Decimal(invoice.tax_rate_percent))
    return CreditTotals(taxable, tax, non_taxable, taxable + tax + non_taxable)


async def issue(
    session: AsyncSession,
    invoice: Invoice,
    lines: Sequence[CreditLine],
    reason: str,
    actor: Principal,
    clock: Clock,
    settings: Settings,
) -> CreditNote:
    """Issue a credit note on ``invoice`` (locked by the caller) and settle its status."""
    view = await view_of(session, invoice)
    if invoice.status == "void":
        raise refuse(view, "credit-notes", "A void invoice cannot be credited.")
    sums = credit_totals(invoice, view.credit_notes, lines)
    today = clock.today()
    (number,) = await numbering.allocate(session, numbering.CREDIT_NOTE_SERIES, today.year, 1)
    note = CreditNote(
        id=new_id("crn"),
        number=number,
        invoice_id=invoice.id,
        issued_on=today,
        reason=reason,
        lines=[line.as_json() for line in lines],
        taxable_subtotal=sums.taxable_subtotal,
        tax=sums.tax,
        non_taxable_subtotal=sums.non_taxable_subtotal,
        total=sums.total,
        created_by=actor.key_id,
        created_at=clock.now(),
        # Issue 14 §4: the issuer's contact and accounts as this note states them.
        issuer_snapshot_id=(await issuer_at_issue(session, settings, clock)).snapshot_id,
    )
    session.add(note)
    before = snapshot(invoice)
    invoice.status = settled_status(invoice, view.amount_credited + note.total)
    await session.flush()
    await write_audit(
        session,
        actor=actor,
        clock=clock,
        action="credit_notes.issue",
        resource_type="credit_note",
        resource_id=note.id,
        customer_id=invoice.customer_id,
        before=None,
        after=snapshot(note),
    )
    if invoice.status != before["status"]:
        await write_audit(
            session,
            actor=actor,
            clock=clock,
            action="invoices.credit",
            resource_type="invoice",
            resource_id=invoice.id,
            before=before,
            after=snapshot(invoice),
        )
    # Issue 12 §2: the note as the credit-note routes return it; the invoice when the
    # note settled it (a partly paid invoice whose rest is credited is paid).
    await record_event(
        session,
        clock=clock,
        type=EventType.CREDIT_NOTE_ISSUED,
        resource_type="credit_note",
        resource_id=note.id,
        data=CreditNoteRead.model_validate(note),
        customer_id=invoice.customer_id,
        request_id=actor.request_id,
    )
    if invoice.status == "paid" and before["status"] != "paid":
        await publish(session, invoice, EventType.INVOICE_PAID, actor, clock)
    return note


async def create_credit_note(
    session: AsyncSession,
    invoice_id: str,
    data: CreditNoteCreate,
    actor: Principal,
    clock: Clock,
    settings: Settings,
) -> CreditNote:
    invoice = await load(session, invoice_id, actor, for_update=True)
    lines = [CreditLine(line.description, line.amount, line.taxable) for line in data.lines]
    return await issue(session, invoice, lines, data.reason, actor, clock, settings)
