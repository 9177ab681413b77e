"""The draft of one contract's monthly invoice (R-INV-1, R-CHG-1..4): what it would hold.

Used by the bill run and by the invoice preview, so both compute the same invoice:

- the month's recurring lines (R-CHG-1, R-CHG-2), priced by the price book version in
  effect on the month's first day (R-CAT-4);
- every unbilled ledger charge of that month (``month == M``; issue 9 §2): the one-time
  items (R-CHG-3), early-termination (R-CHG-5), cancellation (R-CHG-6), late-payment
  (R-CHG-7) and ad-hoc charges (R-CHG-8, R-CHG-9), each keeping its ``charge_id`` so the
  bill run can stamp it with the invoice;
- in a stable order: recurring lines in tariff order, then ledger lines by month and id;
- tax once per invoice on the taxable subtotal (R-CHG-4), at the month's book's rate.

The draft itself is pure; ``due_charges`` and ``draft_for`` are the database seams.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from app.charges.repository import ChargeRepository
from app.contracts.billing import BillingSubject
from app.invoices.composition import DraftLine
from app.pricing.calendar import Month
from app.pricing.lines import ChargeLine, InvoiceTotals, totals
from app.pricing.price_book import PriceBooks
from app.pricing.recurring import recurring_lines_for_month


class LedgerEntry(Protocol):
    """What a draft needs of a charge-ledger entry (``app.charges.models.Charge``)."""

    @property
    def id(self) -> str: ...
    @property
    def item(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def quantity(self) -> int: ...
    @property
    def unit_price(self) -> int: ...
    @property
    def amount(self) -> int: ...
    @property
    def taxable(self) -> bool: ...
    @property
    def month(self) -> str: ...
    @property
    def rule(self) -> str: ...


@dataclass(frozen=True, slots=True)
class InvoiceDraft:
    """A monthly invoice before it has a number: its lines and totals."""

    contract_id: str
    customer_id: str
    month: Month
    lines: tuple[DraftLine, ...]
    tax_rate_percent: Decimal
    totals: InvoiceTotals
    # The licence IDs the month bills (issue 14 §3); None when it bills no months.
    license_ids: int | None = None
    # The contract's plan (issue 14 §3): a contract keeps its plan for life (R-LC-8).
    plan: str | None = None

    @property
    def charge_ids(self) -> list[str]:
        return [d.charge_id for d in self.lines if d.charge_id is not None]


def ledger_line(charge: LedgerEntry) -> DraftLine:
    return DraftLine(
        ChargeLine(
            item=charge.item,
            description=charge.description,
            quantity=charge.quantity,
            unit_price=charge.unit_price,
            amount=charge.amount,
            taxable=charge.taxable,
            rule=charge.rule,
        ),
        charge_id=charge.id,
    )


def draft_invoice(
    subject: BillingSubject,
    month: Month,
    books: PriceBooks,
    charges: Sequence[LedgerEntry] = (),
) -> InvoiceDraft:
    """The monthly invoice of ``subject`` for ``month`` (pure; see the module docstring).

    ``charges`` are the contract's unbilled charges of ``month`` (``due_charges``); each
    ledger charge bills on the invoice of its own month, whatever order months are billed
    in (R-CHG-3, R-INV-1; issue 9 §2).
    """
    book = books.for_month(month)
    lines = [DraftLine(line) for line in recurring_lines_for_month(book, subject.timeline, month)]
    ordered = sorted(charges, key=lambda c: (c.month, c.id))
    lines += [ledger_line(c) for c in ordered if c.month == str(month)]
    return InvoiceDraft(
        contract_id=subject.contract_id,
        customer_id=subject.customer_id,
        month=month,
        lines=tuple(lines),
        tax_rate_percent=book.tax_rate_percent,
        totals=totals((d.line for d in lines), book.tax_rate_percent),
        license_ids=subject.timeline.license_ids_in(month),
        plan=str(subject.timeline.plan),
    )


async def due_charges(
    session: AsyncSession, contract_ids: Sequence[str], month: Month
) -> dict[str, list[LedgerEntry]]:
    """Each contract's unbilled ledger charges of ``month``, in line order."""
    by_contract: dict[str, list[LedgerEntry]] = defaultdict(list)
    if contract_ids:
        repo = ChargeRepository(session)
        for charge in await repo.unbilled_due_rows(contract_ids, str(month)):
            by_contract[charge.contract_id].append(charge)
    return by_contract


async def draft_for(
    session: AsyncSession, subject: BillingSubject, month: Month, books: PriceBooks
) -> InvoiceDraft:
    """One contract's draft, reading its due charges (the invoice preview's path)."""
    charges = await due_charges(session, [subject.contract_id], month)
    return draft_invoice(subject, month, books, charges[subject.contract_id])
