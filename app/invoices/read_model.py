"""An invoice as its GET shows it, built from plain column values (issue 11).

One function, :func:`read_data`, turns an invoice's columns, its lines and its credit
notes into the read model's JSON: the GET of one invoice, the list, the write routes'
answers (via ORM objects) and the bill run's ``invoice.issued`` events all go through it,
so they cannot drift apart. The reads fetch an invoice with its lines and credit notes
in ONE statement (a JSON array of each kind of child row), and a page of invoices is the
same statement with a LIMIT: one statement whatever the page size.

``status`` is stored as ``issued | paid | void | credited``; ``overdue`` is derived here
(issued, a balance left, today after the due date), so no job flips it at midnight.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date
from functools import lru_cache
from typing import Any

from pydantic_core import from_json
from sqlalchemy import Row, Select, bindparam, select

from app.auth.roles import Role
from app.auth.service import Principal
from app.core.database import Executor, dialect_of
from app.core.errors import NotFound
from app.core.pagination import PageParams, paginate_rows
from app.core.renders import Renders, page_json
from app.core.sql import json_rows
from app.invoices.models import CreditNote, Invoice, InvoiceLine
from app.invoices.repository import InvoiceFilter
from app.invoices.schemas import InvoiceRead, InvoiceStatus

# The columns the read model shows, in the read statement's order (composition.py's
# INVOICE_COLUMNS is another list: the whole row, in the order the bill run COPYs it).
SHOWN_COLUMNS = (
    "id",
    "number",
    "contract_id",
    "customer_id",
    "kind",
    "month",
    "issued_on",
    "due_on",
    "recipient_name",
    "issuer_name",
    "issuer_registration_number",
    "taxable_subtotal",
    "tax",
    "non_taxable_subtotal",
    "total",
    "amount_paid",
    "status",
    "voided_on",
    "void_reason",
)
SHOWN_LINE_COLUMNS = ("item", "description", "quantity", "unit_price", "amount", "taxable")
SHOWN_NOTE_COLUMNS = ("id", "number", "issued_on", "total")

Values = Mapping[str, Any]


def shown_status(stored: str, balance: int, due_on: date, today: date) -> InvoiceStatus:
    if stored == "issued" and balance > 0 and today > due_on:
        return InvoiceStatus.OVERDUE
    return InvoiceStatus(stored)


def _iso(day: date | str | None) -> str | None:
    # Dates come as dates from a column and as ISO text from a JSON array.
    return day if day is None or isinstance(day, str) else day.isoformat()


def read_data(
    invoice: Values, lines: Sequence[Sequence[Any]], notes: Sequence[Sequence[Any]], today: date
) -> dict[str, Any]:
    """The read model as JSON: ``invoice`` maps :data:`SHOWN_COLUMNS`; each of ``lines``
    (in order) holds the values of :data:`SHOWN_LINE_COLUMNS`, each of ``notes`` (in order)
    those of :data:`SHOWN_NOTE_COLUMNS`, as the JSON arrays of the read statement do."""
    total: int = invoice["total"]
    credited = sum(note[3] for note in notes)
    balance = total - invoice["amount_paid"] - credited
    status = shown_status(invoice["status"], balance, invoice["due_on"], today)
    return {
        "id": invoice["id"],
        "number": invoice["number"],
        "contract_id": invoice["contract_id"],
        "customer_id": invoice["customer_id"],
        "kind": invoice["kind"],
        "month": invoice["month"],
        "issued_on": _iso(invoice["issued_on"]),
        "due_on": _iso(invoice["due_on"]),
        "recipient": {"name": invoice["recipient_name"]},
        "issuer": {
            "name": invoice["issuer_name"],
            "registration_number": invoice["issuer_registration_number"],
        },
        "lines": [
            {
                "item": item,
                "description": description,
                "quantity": quantity,
                "unit_price": unit_price,
                "amount": amount,
                "taxable": bool(taxable),  # SQLite's JSON has no booleans
            }
            for item, description, quantity, unit_price, amount, taxable in lines
        ],
        "taxable_subtotal": invoice["taxable_subtotal"],
        "tax": invoice["tax"],
        "non_taxable_subtotal": invoice["non_taxable_subtotal"],
        "total": total,
        "amount_paid": invoice["amount_paid"],
        "amount_credited": credited,
        "balance": balance,
        "status": status.value,
        "voided_on": _iso(invoice["voided_on"]),
        "void_reason": invoice["void_reason"],
        "credit_notes": [
            {"id": id, "number": number, "issued_on": _iso(issued_on), "total": note_total}
            for id, number, issued_on, note_total in notes
        ],
    }


def etag(invoice_id: str, status: str, amount_paid: int, credit_notes: int) -> str:
    """Changes whenever anything the read model shows changes (payments, credits, void):
    an issued invoice's columns change only with those."""
    return f'"{invoice_id}.{status}.{amount_paid}.{credit_notes}"'


# ---- the reads ------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _select(dialect: str) -> Select[Any]:
    """Built once per dialect, of table columns (no ORM compile step): the invoice's
    columns, then its lines and its credit notes as JSON arrays, as text (a row of plain
    hashable values: the list keeps its renders by row, app/core/renders.py)."""
    invoices = Invoice.__table__.c
    lines = InvoiceLine.__table__.c
    notes = CreditNote.__table__.c
    return select(
        *(invoices[name] for name in SHOWN_COLUMNS),
        json_rows(
            dialect,
            [lines.position, *(lines[name] for name in SHOWN_LINE_COLUMNS)],
            lines.invoice_id == invoices.id,
            as_text=True,
        ),
        json_rows(
            dialect,
            [notes[name] for name in SHOWN_NOTE_COLUMNS],
            notes.invoice_id == invoices.id,
            as_text=True,
        ),
    )


@lru_cache(maxsize=4)
def _select_one(dialect: str) -> Select[Any]:
    return _select(dialect).where(Invoice.__table__.c.id == bindparam("invoice_id"))


def _filtered(stmt: Select[Any], filters: InvoiceFilter, today: date) -> Select[Any]:
    invoices = Invoice.__table__.c
    if filters.contract_id is not None:
        stmt = stmt.where(invoices.contract_id == filters.contract_id)
    if filters.customer_id is not None:
        stmt = stmt.where(invoices.customer_id == filters.customer_id)
    if filters.month is not None:
        stmt = stmt.where(invoices.month == filters.month)
    if filters.status == "overdue":
        stmt = stmt.where(invoices.status == "issued", invoices.due_on < today)
    elif filters.status == "issued":
        stmt = stmt.where(invoices.status == "issued", invoices.due_on >= today)
    elif filters.status is not None:
        stmt = stmt.where(invoices.status == filters.status)
    if filters.found is not None:
        stmt = filters.found.apply(
            stmt, invoices.issued_on, invoices.total, invoices.recipient_name
        )
    return stmt


_WIDTH = len(SHOWN_COLUMNS)


def _data_of(row: Sequence[Any], today: date) -> dict[str, Any]:
    invoice = dict(zip(SHOWN_COLUMNS, row[:_WIDTH], strict=True))
    # Lines by position (then without it), credit notes by number.
    lines = [line[1:] for line in sorted(from_json(row[_WIDTH]))]
    notes = sorted(from_json(row[_WIDTH + 1]), key=lambda note: note[1])
    return read_data(invoice, lines, notes, today)


# Issue 11: a page's invoices as JSON, by row and day (read_data is a pure function of
# both); an invoice is a couple of kB.
_renders = Renders(4096)


def _render_json(row: Row[Any], today: date) -> bytes:
    key = (*row, today)
    return _renders.get(key) or _renders.put(key, _data_of(row, today))


async def read(
    connection: Executor, invoice_id: str, actor: Principal, today: date
) -> tuple[InvoiceRead, str]:
    """One invoice as GET shows it, and its ETag; 404 when it does not exist or the caller
    may not see it (R-PTN-3)."""
    rows = await connection.execute(_select_one(dialect_of(connection)), {"invoice_id": invoice_id})
    row = rows.first()
    if row is None or not actor.sees_customer(row.customer_id):
        raise NotFound(f"No invoice {invoice_id}.", code="invoice_not_found")
    data = _data_of(row, today)
    tag = etag(row.id, row.status, row.amount_paid, len(data["credit_notes"]))
    return InvoiceRead.model_validate(data), tag


async def page(
    connection: Executor,
    filters: InvoiceFilter,
    actor: Principal,
    today: date,
    params: PageParams,
) -> bytes:
    """A ``Page[InvoiceRead]``'s JSON, newest first, in one statement whatever the page
    size; a portal key sees only its own customer's invoices (R-PTN-3)."""
    if actor.role is Role.PORTAL:
        if filters.customer_id not in (None, actor.customer_id):
            return page_json([], None)
        filters = replace(filters, customer_id=actor.customer_id)
    invoices = Invoice.__table__.c
    stmt = _filtered(_select(dialect_of(connection)), filters, today)
    rows, cursor = await paginate_rows(
        connection, stmt, keys=[invoices.id], key_of=lambda r: [r[0]], params=params
    )
    return page_json([_render_json(row, today) for row in rows], cursor)
