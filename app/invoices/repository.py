"""Queries of the receivables side: invoices with their lines, payments and credit notes."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.invoices.models import CreditNote, Invoice, InvoiceLine, Payment

_S = TypeVar("_S", bound="Select[*tuple[Any, ...]]")


@dataclass(frozen=True, slots=True)
class InvoiceFilter:
    contract_id: str | None = None
    customer_id: str | None = None
    month: str | None = None
    status: str | None = None  # issued | overdue | paid | void | credited
    found: DocumentSearch | None = None  # issue 14 §5


@dataclass(frozen=True, slots=True)
class DocumentSearch:
    """Issue 14 §5 (電子帳簿保存法: 可視性): issue dates, total range, recipient name."""

    issued_from: date | None = None
    issued_to: date | None = None
    total_min: int | None = None
    total_max: int | None = None
    recipient: str | None = None  # the recipient's name contains it (any case)

    def apply(self, stmt: _S, issued_on: Any, total: Any, recipient_name: Any) -> _S:
        if self.issued_from is not None:
            stmt = stmt.where(issued_on >= self.issued_from)
        if self.issued_to is not None:
            stmt = stmt.where(issued_on <= self.issued_to)
        if self.total_min is not None:
            stmt = stmt.where(total >= self.total_min)
        if self.total_max is not None:
            stmt = stmt.where(total <= self.total_max)
        if self.recipient:
            stmt = stmt.where(recipient_name.icontains(self.recipient, autoescape=True))
        return stmt


class InvoiceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, invoice_id: str, *, for_update: bool = False) -> Invoice | None:
        stmt = select(Invoice).where(Invoice.id == invoice_id)
        if for_update:
            stmt = stmt.with_for_update()
        return (await self.session.scalars(stmt)).one_or_none()

    async def lines_of(self, invoice_ids: Sequence[str]) -> dict[str, list[InvoiceLine]]:
        found: dict[str, list[InvoiceLine]] = defaultdict(list)
        if invoice_ids:
            stmt = (
                select(InvoiceLine)
                .where(InvoiceLine.invoice_id.in_(invoice_ids))
                .order_by(InvoiceLine.invoice_id, InvoiceLine.position)
            )
            for line in await self.session.scalars(stmt):
                found[line.invoice_id].append(line)
        return found

    async def credit_notes_of(self, invoice_ids: Sequence[str]) -> dict[str, list[CreditNote]]:
        found: dict[str, list[CreditNote]] = defaultdict(list)
        if invoice_ids:
            stmt = (
                select(CreditNote)
                .where(CreditNote.invoice_id.in_(invoice_ids))
                .order_by(CreditNote.invoice_id, CreditNote.number)
            )
            for note in await self.session.scalars(stmt):
                found[note.invoice_id].append(note)
        return found

    async def payments_of(self, invoice_id: str) -> list[Payment]:
        stmt = (
            select(Payment)
            .where(Payment.invoice_id == invoice_id)
            .order_by(Payment.paid_on, Payment.id)
        )
        return list((await self.session.scalars(stmt)).all())

    async def by_ids(self, invoice_ids: Sequence[str]) -> list[Invoice]:
        if not invoice_ids:
            return []
        stmt = select(Invoice).where(Invoice.id.in_(invoice_ids)).order_by(Invoice.id)
        return list((await self.session.scalars(stmt)).all())
