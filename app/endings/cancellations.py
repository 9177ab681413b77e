"""Cancellation before the service starts (R-CHG-6, Art. 9).

From acceptance to the onboarding start the fee is the one-time items plus the actual
costs reported; from the onboarding start to the service start it adds twelve months of
the monthly charge. The fee is invoiced at once, with tax. Where the contractor is not at
fault there is no fee, and one-time items already paid are refunded by credit note.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import snapshot
from app.auth.service import Principal
from app.contracts import events
from app.contracts.guards import ensure_not_future, load, not_before
from app.contracts.models import Contract
from app.contracts.read_model import shape_of
from app.contracts.states import Move, Status, ensure_allowed
from app.core.clock import Clock
from app.core.settings import Settings
from app.endings.schemas import CancellationCreate
from app.invoices.cancellation_invoices import issue_cancellation_invoice, refund_paid_one_time
from app.invoices.models import CreditNote, Invoice
from app.invoices.months import record_charges
from app.price_books.service import load_price_books
from app.pricing.calendar import Month
from app.pricing.cancellation import cancellation_fee
from app.pricing.catalogue import ChargeKind
from app.pricing.lines import ChargeLine


async def invoice_fee_at_once(
    session: AsyncSession,
    contract: Contract,
    lines: list[ChargeLine],
    source: str,
    cancelled_on: date,
    actor: Principal,
    clock: Clock,
    settings: Settings,
) -> Invoice:
    """Record a cancellation fee in the ledger and invoice it at once (R-CHG-6).

    No monthly invoice will carry it: the service never started.
    """
    recorded = await record_charges(
        session,
        contract_id=contract.id,
        lines=lines,
        kind=ChargeKind.CANCELLATION,
        month=Month.of(cancelled_on),
        source=source,
        actor_key_id=actor.key_id,
        request_id=actor.request_id,
        clock=clock,
    )
    return await issue_cancellation_invoice(
        session,
        contract_id=contract.id,
        customer_id=contract.customer_id,
        lines=lines,
        charge_ids=[c.id for c in recorded],
        cancelled_on=cancelled_on,
        settings=settings,
        clock=clock,
        actor=actor,
    )


@dataclass
class Cancellation:
    contract: Contract
    invoice: Invoice | None
    credit_notes: list[CreditNote]


async def cancel(
    session: AsyncSession,
    contract_id: str,
    data: CancellationCreate,
    actor: Principal,
    clock: Clock,
    settings: Settings,
) -> Cancellation:
    contract = await load(session, contract_id, actor, for_update=True)
    ensure_allowed(contract.status, Move.CANCEL)
    assert contract.accepted_on is not None
    not_before(data.cancelled_on, contract.accepted_on, "cancelled_on", "accepted_on", "R-CHG-6")
    ensure_not_future(data.cancelled_on, clock.today(), "cancelled_on", "R-CHG-6")
    started = (
        contract.onboarding_started_on is not None
        and contract.onboarding_started_on <= data.cancelled_on
    )
    book = (await load_price_books(session)).for_date(contract.received_on)
    fee = cancellation_fee(
        book,
        shape_of(contract),
        contract.onboarding_kind,
        contract.ad_integration,
        started,
        [(c.description, c.amount) for c in data.actual_costs],
        data.contractor_at_fault,
    )
    invoice = None
    notes: list[CreditNote] = []
    if fee.lines:
        invoice = await invoice_fee_at_once(
            session,
            contract,
            list(fee.lines),
            "cancellation",
            data.cancelled_on,
            actor,
            clock,
            settings,
        )
    if fee.refund_paid_one_time:
        notes = await refund_paid_one_time(
            session,
            contract_id=contract.id,
            reason="契約者の責めによらない取消による一時金の返還（第9条4項）",
            clock=clock,
            actor=actor,
            settings=settings,
        )
    before = snapshot(contract)
    contract.status = Status.CANCELLED.value
    contract.cancelled_on = data.cancelled_on
    contract.cancellation_at_fault = data.contractor_at_fault
    await events.changed(
        session,
        contract,
        event="contract.cancelled",
        business_date=data.cancelled_on,
        actor=actor,
        clock=clock,
        before=before,
        payload={
            "contractor_at_fault": data.contractor_at_fault,
            "fee": fee.amount,
            "onboarding_started": started,
            "invoice_id": invoice.id if invoice else None,
        },
    )
    return Cancellation(contract, invoice, notes)
