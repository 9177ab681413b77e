"""Invoices outside the monthly cycle: the cancellation fee (R-CHG-6, R-INV-1).

Called by the contracts feature from its cancellation endpoint, in the request's
transaction (these functions only flush):

- :func:`issue_cancellation_invoice` issues the fee at once: kind ``cancellation``, month
  = the month of ``cancelled_on``, issued today, due on the last day of the month after
  the issue month (plus ``settings.invoice_due_month_offset`` months, as monthly
  invoices, and never sooner than ``invoice_min_days_to_pay`` days after issue),
  numbered in the invoice series (R-INV-3), taxed once per invoice at the rate
  of the price book pricing that month (R-CHG-4). ``lines[i]`` is billed from the ledger
  charge ``charge_ids[i]`` when ``charge_ids`` is given (record the fee in the ledger first,
  kind ``cancellation``): those charges are stamped with the invoice, so no bill run
  bills them again.
- :func:`refund_paid_one_time` is the not-at-fault case (Art. 9.4): every one-time charge
  of the contract that sits on a paid invoice is refunded by a credit note on that
  invoice, one note per invoice. Calling it again refunds nothing twice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import snapshot
from app.auth.service import Principal
from app.charges import service as charges
from app.charges.models import Charge
from app.contracts.models import Contract
from app.core.clock import Clock
from app.core.errors import Conflict, Unprocessable
from app.core.ids import new_id
from app.core.settings import Settings
from app.customers.service import billing_recipients
from app.events.catalogue import EventType
from app.invoices import credit_notes, numbering
from app.invoices.composition import DraftLine, compose
from app.invoices.issue_dates import due_on
from app.invoices.issuer import issuer_at_issue
from app.invoices.models import CreditNote, Invoice
from app.invoices.receivables import publish, write_audit
from app.invoices.repository import InvoiceRepository
from app.price_books.service import load_price_books
from app.pricing.calendar import Month
from app.pricing.catalogue import ChargeKind
from app.pricing.lines import ChargeLine

RULE = "R-CHG-6"


def cancellation_due_on(issued_on: date, settings: Settings) -> date:
    """The last day of the month after the issue month (+ the configured offset), never
    sooner than ``invoice_min_days_to_pay`` days after the issue date (issue 9 §1)."""
    return due_on(issued_on, settings, extra_months=1)


async def issue_cancellation_invoice(
    session: AsyncSession,
    *,
    contract_id: str,
    customer_id: str,
    lines: Sequence[ChargeLine],
    charge_ids: Sequence[str],
    cancelled_on: date,
    settings: Settings,
    clock: Clock,
    actor: Principal,
) -> Invoice:
    """Issue the cancellation fee's invoice at once (R-CHG-6); see the module docstring."""
    if not lines:
        raise Unprocessable(
            "There is no cancellation fee to invoice.", code="nothing_to_invoice", rule=RULE
        )
    if charge_ids and len(charge_ids) != len(lines):
        raise ValueError("charge_ids must name one ledger charge per line, or be empty")
    month = Month.of(cancelled_on)
    book = (await load_price_books(session)).for_month(month)
    issued_on = clock.today()
    recipients = await billing_recipients(session, [customer_id])
    applied_ids, plan = (
        await session.execute(
            select(Contract.license_ids, Contract.plan).where(Contract.id == contract_id)
        )
    ).one()
    (number,) = await numbering.allocate(session, numbering.INVOICE_SERIES, issued_on.year, 1)
    sources: Sequence[str | None] = list(charge_ids) or [None] * len(lines)
    invoice, rows = compose(
        invoice_id=new_id("inv"),
        number=number,
        contract_id=contract_id,
        customer_id=customer_id,
        kind="cancellation",
        month=str(month),
        issued_on=issued_on,
        due_on=cancellation_due_on(issued_on, settings),
        recipient=recipients[customer_id],
        issuer=await issuer_at_issue(session, settings, clock),
        tax_rate_percent=book.tax_rate_percent,
        # Before the service starts, the IDs applied for (issue 14 §3).
        license_ids=applied_ids,
        plan=plan,
        lines=[DraftLine(line, charge_id) for line, charge_id in zip(lines, sources, strict=True)],
        created_at=clock.now(),
    )
    session.add(invoice)
    await session.flush()
    session.add_all(rows)
    await session.flush()
    if charge_ids:
        stamped = await charges.stamp(session, charge_ids, invoice.id, clock)
        if stamped != len(charge_ids):
            raise Conflict(
                "Some of the cancellation charges are already on another invoice.",
                code="charges_already_billed",
                rule=RULE,
                charge_ids=list(charge_ids),
            )
    await write_audit(
        session,
        actor=actor,
        clock=clock,
        action="invoices.issue",
        resource_type="invoice",
        resource_id=invoice.id,
        before=None,
        after=snapshot(invoice),
    )
    await publish(session, invoice, EventType.INVOICE_ISSUED, actor, clock)
    return invoice


def _refunded_charge_ids(notes: Sequence[CreditNote]) -> set[str]:
    return {
        str(line["charge_id"]) for note in notes for line in note.lines if line.get("charge_id")
    }


async def refund_paid_one_time(
    session: AsyncSession,
    *,
    contract_id: str,
    reason: str,
    clock: Clock,
    actor: Principal,
    settings: Settings,
) -> list[CreditNote]:
    """Not at fault (Art. 9.4): credit notes refunding the paid one-time items."""
    billed = await charges.billed_of_kind(session, contract_id, ChargeKind.ONE_TIME)
    by_invoice: dict[str, list[Charge]] = defaultdict(list)
    for charge in billed:
        assert charge.invoice_id is not None
        by_invoice[charge.invoice_id].append(charge)
    repo = InvoiceRepository(session)
    notes_of = await repo.credit_notes_of(list(by_invoice))
    issued: list[CreditNote] = []
    for invoice_id in sorted(by_invoice):
        invoice = await repo.get(invoice_id, for_update=True)
        if invoice is None or invoice.status != "paid":
            continue
        done = _refunded_charge_ids(notes_of.get(invoice_id, []))
        refund = [
            credit_notes.CreditLine(c.description, c.amount, c.taxable, charge_id=c.id)
            for c in by_invoice[invoice_id]
            if c.id not in done
        ]
        if refund:
            issued.append(
                await credit_notes.issue(session, invoice, refund, reason, actor, clock, settings)
            )
    return issued
