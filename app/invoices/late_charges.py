"""Late-payment charges of invoices (R-CHG-7; Art. 26).

The arithmetic is ``app.pricing.late_payment``; this module feeds it an invoice's
payments and, once a payment completes a late invoice, records the charge in the ledger
exactly once (source ``late-payment:<invoice id>``) for the contract's next invoice.

Decisions: the debt the interest runs on is the invoice total less its credit notes (a
credit note corrects the invoice, so the corrected amount is what was due) and less the
late charges it carries (Art. 26 "遅延損害金を除きます"); payments settle those carried
late charges first (Civil Code art. 489: interest before principal); the rate is
the price book's in effect on the first day of lateness (the day after the due date); the
charge's taxability is the ruling of the book for the month whose invoice carries it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import snapshot
from app.auth.service import Principal
from app.charges import service as charges
from app.charges.models import Charge
from app.contracts.repository import ContractRepository
from app.core.clock import Clock
from app.invoices.models import Invoice, InvoiceLine, Payment
from app.invoices.months import open_month, record_charges
from app.invoices.receivables import load, refuse, view_of, write_audit
from app.invoices.repository import InvoiceRepository
from app.invoices.schemas import LateChargeRead, LateSegmentRead, LedgerChargeRef
from app.price_books.service import load_price_books
from app.pricing.calendar import Month
from app.pricing.catalogue import ChargeKind
from app.pricing.late_payment import LateCharge, late_payment_charge, late_payment_line
from app.pricing.price_book import PriceBooks

RULE = "R-CHG-7"


def source_of(invoice_id: str) -> str:
    return f"late-payment:{invoice_id}"


def rate_for(books: PriceBooks, invoice: Invoice) -> str:
    return str(books.for_date(invoice.due_on + timedelta(days=1)).late_payment_rate_percent)


def _to_principal(payments: Sequence[Payment], carried: int) -> list[tuple[date, int]]:
    """The payments as they reach the principal, once ``carried`` late charges are paid."""
    left = carried
    reached = []
    for payment in sorted(payments, key=lambda p: (p.paid_on, p.id)):
        taken = min(left, payment.amount)
        left -= taken
        if payment.amount > taken:
            reached.append((payment.paid_on, payment.amount - taken))
    return reached


def charge_of(
    invoice: Invoice,
    lines: Sequence[InvoiceLine],
    payments: Sequence[Payment],
    credited: int,
    as_of: date,
    books: PriceBooks,
) -> LateCharge:
    carried = sum(line.amount for line in lines if line.item == ChargeKind.LATE_PAYMENT)
    owed = max(invoice.total - credited - carried, 0)
    return late_payment_charge(
        owed,
        invoice.due_on,
        _to_principal(payments, carried),
        as_of,
        books.for_date(invoice.due_on + timedelta(days=1)).late_payment_rate_percent,
    )


async def next_billing_month(session: AsyncSession, invoice: Invoice) -> Month:
    """The first month after the invoice's month not yet invoiced for the contract: that
    invoice carries the charge (R-CHG-7; issue 9 §2, decided once, when recorded)."""
    return await open_month(session, invoice.contract_id, Month.parse(invoice.month) + 1)


async def record_if_due(
    session: AsyncSession,
    invoice: Invoice,
    lines: Sequence[InvoiceLine],
    payments: Sequence[Payment],
    credited: int,
    actor: Principal,
    clock: Clock,
) -> Charge | None:
    """Once an invoice is paid in full: its late charge into the ledger, once (R-CHG-7).

    Counted to the day before each payment; nothing when the whole invoice was paid within
    the 10 days from the day after the due date.
    """
    existing = await charges.for_source(session, invoice.contract_id, source_of(invoice.id))
    if existing:
        return existing[0]
    completed_on = max(p.paid_on for p in payments)
    books = await load_price_books(session)
    late = charge_of(invoice, lines, payments, credited, completed_on, books)
    # The month prices the charge's taxability: decide it under the lock record takes.
    await ContractRepository(session).lock(invoice.contract_id)
    month = await next_billing_month(session, invoice)
    line = late_payment_line(late, book=books.for_month(month), reference=invoice.number)
    if line is None:
        return None
    (charge,) = await record_charges(
        session,
        contract_id=invoice.contract_id,
        lines=[line],
        kind=ChargeKind.LATE_PAYMENT,
        month=month,
        source=source_of(invoice.id),
        actor_key_id=actor.key_id,
        request_id=actor.request_id,
        clock=clock,
    )
    await write_audit(
        session,
        actor=actor,
        clock=clock,
        action="charges.record",
        resource_type="charge",
        resource_id=charge.id,
        customer_id=invoice.customer_id,
        before=None,
        after=snapshot(charge),
    )
    return charge


async def late_charge(
    session: AsyncSession, invoice_id: str, as_of: date, actor: Principal
) -> LateChargeRead:
    """The late charge as of ``as_of``, counting the payments made up to that date."""
    invoice = await load(session, invoice_id, actor)
    view = await view_of(session, invoice)
    if invoice.status == "void":
        raise refuse(view, "late-charge", "A void invoice owes nothing and bears no late charge.")
    payments = await InvoiceRepository(session).payments_of(invoice.id)
    books = await load_price_books(session)
    late = charge_of(invoice, view.lines, payments, view.amount_credited, as_of, books)
    paid_by_then = sum(p.amount for p in payments if p.paid_on <= as_of)
    recorded = await charges.for_source(session, invoice.contract_id, source_of(invoice.id))
    return LateChargeRead(
        amount=late.amount,
        days=late.days,
        waived=late.waived,
        in_grace=late.in_grace,
        segments=[LateSegmentRead.model_validate(s) for s in late.segments],
        due_on=invoice.due_on,
        balance=max(invoice.total - view.amount_credited - paid_by_then, 0),
        as_of=as_of,
        rate_percent=rate_for(books, invoice),
        rule=RULE,
        recorded=LedgerChargeRef.model_validate(recorded[0]) if recorded else None,
    )
