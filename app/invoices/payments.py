"""Recording payments against issued invoices (R-INV-4, R-CHG-7).

A payment is a positive amount of yen received on a date, at most the balance (no
overpayment is taken: the 422 says the balance). The payment that settles the invoice
turns it ``paid`` and, where the invoice was paid late, records its late charge in the
ledger once for the contract's next invoice.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import snapshot
from app.auth.service import Principal
from app.charges.models import Charge
from app.core.clock import Clock
from app.core.errors import Unprocessable
from app.core.ids import new_id
from app.events.catalogue import EventType
from app.events.outbox import record_event
from app.invoices import late_charges
from app.invoices.models import Payment
from app.invoices.receivables import (
    InvoiceView,
    load,
    publish,
    refuse,
    settled_status,
    view_of,
    write_audit,
)
from app.invoices.repository import InvoiceRepository
from app.invoices.schemas import PaymentCreate, PaymentRead

RULE = "R-INV-4"


@dataclass(frozen=True, slots=True)
class PaymentOutcome:
    payment: Payment
    view: InvoiceView
    late_charge: Charge | None


async def record_payment(
    session: AsyncSession,
    invoice_id: str,
    data: PaymentCreate,
    actor: Principal,
    clock: Clock,
) -> PaymentOutcome:
    invoice = await load(session, invoice_id, actor, for_update=True)
    view = await view_of(session, invoice)
    if invoice.status == "void":
        raise refuse(view, "payments", "A void invoice takes no payments.")
    today = clock.today()
    if data.paid_on > today:
        raise Unprocessable(
            f"A payment is recorded once received; {data.paid_on} is after today ({today}).",
            code="payment_in_future",
            rule=RULE,
            field="paid_on",
            today=today,
        )
    if data.paid_on < invoice.issued_on:
        raise Unprocessable(
            f"A payment answers an issued invoice; {data.paid_on} is before invoice "
            f"{invoice.number} was issued ({invoice.issued_on}).",
            code="payment_before_issue",
            rule=RULE,
            field="paid_on",
            issued_on=invoice.issued_on,
            earliest_paid_on=invoice.issued_on,
        )
    if data.amount > view.balance:
        raise Unprocessable(
            f"The payment of {data.amount:,} yen exceeds the balance of invoice "
            f"{invoice.number}, {max(view.balance, 0):,} yen.",
            code="overpayment",
            rule=RULE,
            field="amount",
            balance=max(view.balance, 0),
        )
    payment = Payment(
        id=new_id("pay"),
        invoice_id=invoice.id,
        paid_on=data.paid_on,
        amount=data.amount,
        reference=data.reference,
        created_by=actor.key_id,
        created_at=clock.now(),
    )
    session.add(payment)
    before = snapshot(invoice)
    invoice.amount_paid += data.amount
    invoice.status = settled_status(invoice, view.amount_credited)
    await session.flush()
    await write_audit(
        session,
        actor=actor,
        clock=clock,
        action="payments.record",
        resource_type="payment",
        resource_id=payment.id,
        customer_id=invoice.customer_id,
        before=None,
        after=snapshot(payment),
    )
    await write_audit(
        session,
        actor=actor,
        clock=clock,
        action="invoices.pay",
        resource_type="invoice",
        resource_id=invoice.id,
        before=before,
        after=snapshot(invoice),
    )
    charge = None
    if invoice.status == "paid":
        payments = await InvoiceRepository(session).payments_of(invoice.id)
        charge = await late_charges.record_if_due(
            session, invoice, view.lines, payments, view.amount_credited, actor, clock
        )
    # Issue 12 §2: the payment, and the invoice once this payment settled it.
    await record_event(
        session,
        clock=clock,
        type=EventType.PAYMENT_RECORDED,
        resource_type="payment",
        resource_id=payment.id,
        data=PaymentRead.model_validate(payment),
        customer_id=invoice.customer_id,
        request_id=actor.request_id,
    )
    if invoice.status == "paid":
        return PaymentOutcome(
            payment, await publish(session, invoice, EventType.INVOICE_PAID, actor, clock), charge
        )
    return PaymentOutcome(payment, await view_of(session, invoice), charge)
