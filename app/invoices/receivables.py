"""Issued invoices as the write paths hold them (ORM rows in a session): their views,
balance and settled status, and voiding (R-INV-4).

An issued invoice never changes: what moves is its payment state. Its read model (with
the derived ``overdue``) is built by :mod:`app.invoices.read_model`, which the GET and
the list use directly, from plain columns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from operator import attrgetter, itemgetter
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.audit.service import snapshot
from app.auth.service import Principal
from app.charges import service as charges
from app.core.clock import Clock
from app.core.errors import Conflict, NotFound
from app.events.catalogue import EventType
from app.events.outbox import record_event
from app.invoices import read_model
from app.invoices.models import CreditNote, Invoice, InvoiceLine
from app.invoices.read_model import SHOWN_COLUMNS, SHOWN_LINE_COLUMNS, SHOWN_NOTE_COLUMNS, read_data
from app.invoices.repository import InvoiceRepository
from app.invoices.schemas import InvoiceRead

RULE = "R-INV-4"


@dataclass(frozen=True, slots=True)
class InvoiceView:
    """An invoice with what its read model needs: lines and credit notes."""

    invoice: Invoice
    lines: Sequence[InvoiceLine]
    credit_notes: Sequence[CreditNote]

    @property
    def amount_credited(self) -> int:
        return sum(note.total for note in self.credit_notes)

    @property
    def balance(self) -> int:
        return balance_of(self.invoice, self.amount_credited)


def balance_of(invoice: Invoice, credited: int) -> int:
    """What the customer still owes; negative when a credit note gives money back."""
    return invoice.total - invoice.amount_paid - credited


def settled_status(invoice: Invoice, credited: int) -> str:
    """The stored status after a payment or a credit note (never changes a void one).

    ``credited`` once credit notes cover the whole total; ``paid`` once payments (with any
    partial credit) cover it; ``issued`` otherwise.
    """
    if invoice.status == "void":
        return "void"
    if credited >= invoice.total:
        return "credited"
    if invoice.amount_paid + credited >= invoice.total:
        return "paid"
    return "issued"


def to_read(view: InvoiceView, today: date) -> InvoiceRead:
    """The read model of an invoice the session holds (after a change: its flushed state)."""
    invoice = view.invoice
    data = read_data(
        {name: getattr(invoice, name) for name in SHOWN_COLUMNS},
        [_LINE_VALUES(line) for line in view.lines],
        [_NOTE_VALUES(note) for note in view.credit_notes],
        today,
    )
    return InvoiceRead.model_validate(data)


_LINE_VALUES = attrgetter(*SHOWN_LINE_COLUMNS)
_NOTE_VALUES = attrgetter(*SHOWN_NOTE_COLUMNS)
_LINE_ITEMS = itemgetter(*SHOWN_LINE_COLUMNS)


_JUST_ISSUED = {"amount_paid": 0, "status": "issued", "voided_on": None, "void_reason": None}


def issued_data(
    invoice: Mapping[str, Any], lines: Sequence[Mapping[str, Any]], today: date
) -> dict[str, Any]:
    """:func:`to_read` of an invoice just issued (nothing paid, credited or voided), as
    JSON, from its plain column values: the bill run's ``invoice.issued`` events, built
    without reading back what it COPYed (tests/events check it equals the GET)."""
    return read_data({**invoice, **_JUST_ISSUED}, [_LINE_ITEMS(line) for line in lines], [], today)


def etag(view: InvoiceView) -> str:
    """Changes whenever anything the read model shows changes (payments, credits, void)."""
    invoice = view.invoice
    return read_model.etag(invoice.id, invoice.status, invoice.amount_paid, len(view.credit_notes))


async def load(
    session: AsyncSession, invoice_id: str, actor: Principal, *, for_update: bool = False
) -> Invoice:
    """The invoice, or 404 when it does not exist or the caller may not see it (R-PTN-3)."""
    invoice = await InvoiceRepository(session).get(invoice_id, for_update=for_update)
    if invoice is None or not actor.sees_customer(invoice.customer_id):
        raise NotFound(f"No invoice {invoice_id}.", code="invoice_not_found")
    return invoice


async def view_of(session: AsyncSession, invoice: Invoice) -> InvoiceView:
    repo = InvoiceRepository(session)
    lines = await repo.lines_of([invoice.id])
    notes = await repo.credit_notes_of([invoice.id])
    return InvoiceView(invoice, lines.get(invoice.id, []), notes.get(invoice.id, []))


async def get_view(session: AsyncSession, invoice_id: str, actor: Principal) -> InvoiceView:
    return await view_of(session, await load(session, invoice_id, actor))


def allowed_moves(view: InvoiceView) -> list[str]:
    """What may still be done to an invoice (the ``allowed`` of a 409)."""
    invoice = view.invoice
    if invoice.status == "void":
        return []
    moves = []
    if view.balance > 0:
        moves.append("payments")
    if view.amount_credited < invoice.total:
        moves.append("credit-notes")
    if invoice.status == "issued" and invoice.amount_paid == 0 and not view.credit_notes:
        moves.append("void")
    return moves


def refuse(view: InvoiceView, move: str, detail: str, **facts: Any) -> Conflict:
    return Conflict(
        detail,
        code="invalid_transition",
        rule=RULE,
        current_status=view.invoice.status,
        attempted=move,
        allowed=allowed_moves(view),
        **facts,
    )


async def write_audit(
    session: AsyncSession,
    *,
    actor: Principal,
    clock: Clock,
    action: str,
    resource_type: str,
    resource_id: str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    customer_id: str | None = None,
) -> None:
    await audit.record(
        session,
        clock=clock,
        actor_key_id=actor.key_id,
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        before=before,
        after=after,
        request_id=actor.request_id,
        customer_id=customer_id,
    )


async def publish(
    session: AsyncSession,
    invoice: Invoice,
    type: EventType,
    actor: Principal,
    clock: Clock,
) -> InvoiceView:
    """Record the invoice's outbox event (issue 12 §2): the invoice as its GET returns it
    now, read after the change. Returns that view."""
    view = await view_of(session, invoice)
    await record_event(
        session,
        clock=clock,
        type=type,
        resource_type="invoice",
        resource_id=invoice.id,
        data=to_read(view, clock.today()),
        customer_id=invoice.customer_id,
        request_id=actor.request_id,
    )
    return view


async def void_invoice(
    session: AsyncSession, invoice_id: str, reason: str, actor: Principal, clock: Clock
) -> InvoiceView:
    """Void an issued invoice nothing has been paid or credited on (R-INV-4).

    Its month may then be billed again (``monthly_month`` cleared, R-INV-1) and its ledger
    charges go back to unbilled, so the next invoice carries them and nothing is lost.
    """
    invoice = await load(session, invoice_id, actor, for_update=True)
    view = await view_of(session, invoice)
    if "void" not in allowed_moves(view):
        raise refuse(
            view,
            "void",
            "Only an issued invoice with nothing paid or credited can be voided; "
            "correct it with a credit note instead.",
            amount_paid=invoice.amount_paid,
            amount_credited=view.amount_credited,
        )
    before = snapshot(invoice)
    invoice.status = "void"
    invoice.voided_on = clock.today()
    invoice.void_reason = reason
    invoice.monthly_month = None
    await session.flush()
    released = await charges.release(session, invoice.id)
    await write_audit(
        session,
        actor=actor,
        clock=clock,
        action="invoices.void",
        resource_type="invoice",
        resource_id=invoice.id,
        before=before,
        after={**snapshot(invoice), "charges_released": released},
    )
    return await publish(session, invoice, EventType.INVOICE_VOIDED, actor, clock)
