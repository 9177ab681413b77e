"""The CSV index of issued invoices (issue 14 §5, 電子帳簿保存法: 可視性), for a tax office.

Streamed in keyset chunks (issue date, number) from a session of its own, so memory stays
constant however many invoices there are. One row per invoice: number, kind, issue date,
recipient, the 法人番号 it was issued under (app/einvoice/buyer_ids.py), the tax by
category (10 %対象 and its tax, 不課税), the total, the status and the SHA-256 of its
stored PDF and JP PINT XML (empty until first rendered).
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import Select, case, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from app.customers.models import Customer
from app.einvoice.models import InvoiceBuyerIds, IssuedDocument
from app.invoices.models import Invoice
from app.invoices.repository import DocumentSearch

CHUNK = 2000
HEADER = (
    "number",
    "kind",
    "issued_on",
    "recipient",
    "corporate_number",
    "taxable_10_percent",
    "tax_10_percent",
    "out_of_scope",
    "total",
    "status",
    "pdf_sha256",
    "jp_pint_sha256",
)


def _query(found: DocumentSearch, customer_id: str | None) -> Select[*tuple[Any, ...]]:
    pdf = aliased(IssuedDocument)
    xml = aliased(IssuedDocument)
    stmt = (
        select(
            Invoice.number,
            Invoice.kind,
            Invoice.issued_on,
            Invoice.recipient_name,
            case(
                (InvoiceBuyerIds.invoice_id.is_not(None), InvoiceBuyerIds.corporate_number),
                else_=Customer.corporate_number,
            ),
            Invoice.taxable_subtotal,
            Invoice.tax,
            Invoice.non_taxable_subtotal,
            Invoice.total,
            Invoice.status,
            pdf.sha256,
            xml.sha256,
        )
        .join(Customer, Customer.id == Invoice.customer_id)
        .outerjoin(InvoiceBuyerIds, InvoiceBuyerIds.invoice_id == Invoice.id)
        .outerjoin(
            pdf,
            (pdf.subject == "invoice") & (pdf.subject_id == Invoice.id) & (pdf.format == "pdf"),
        )
        .outerjoin(
            xml,
            (xml.subject == "invoice") & (xml.subject_id == Invoice.id) & (xml.format == "jp-pint"),
        )
    )
    if customer_id is not None:
        stmt = stmt.where(Invoice.customer_id == customer_id)
    return found.apply(stmt, Invoice.issued_on, Invoice.total, Invoice.recipient_name)


def _csv(rows: list[tuple[Any, ...]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows(["" if value is None else str(value) for value in row] for row in rows)
    return out.getvalue()


async def rows(
    sessionmaker: async_sessionmaker[AsyncSession],
    found: DocumentSearch,
    customer_id: str | None,
) -> AsyncIterator[bytes]:
    """The CSV, header first, oldest issue first, chunk by chunk."""
    yield _csv([HEADER]).encode()
    base = _query(found, customer_id)
    after: tuple[Any, Any] | None = None
    while True:
        stmt = base
        if after is not None:
            stmt = stmt.where(tuple_(Invoice.issued_on, Invoice.number) > tuple_(*after))
        stmt = stmt.order_by(Invoice.issued_on, Invoice.number).limit(CHUNK)
        async with sessionmaker() as session:
            chunk = [tuple(r) for r in (await session.execute(stmt)).all()]
        if not chunk:
            return
        yield _csv(chunk).encode()
        if len(chunk) < CHUNK:
            return
        after = (chunk[-1][2], chunk[-1][0])
