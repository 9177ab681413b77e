"""Issued documents over HTTP: JP PINT XML, the PDFs, credit notes (issue 14 §1, §3, §4).

``GET /v1/invoices/{id}/jp-pint`` and ``GET /v1/credit-notes/{id}/jp-pint`` answer the UBL
XML; ``GET /v1/credit-notes/{id}`` the credit note as JSON. Readable by the keys that read
invoices; a portal key sees only its own customer's (another's is a 404, R-PTN-3).
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy import literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.dependencies import require
from app.auth.roles import Role
from app.auth.service import Principal
from app.core.database import SessionDep, WriteSessionDep, get_database
from app.core.errors import NotFound
from app.core.http import ClockDep
from app.core.openapi import documents
from app.core.pagination import Page, PageParamsDep, paginate
from app.einvoice import archive, credit_note_pdf, index, jp_pint
from app.einvoice.buyer_ids import buyer_ids_of
from app.einvoice.documents import (
    credit_note_document,
    invoice_document,
    issuer_details,
    pay_details,
)
from app.invoices import pdf, receivables
from app.invoices.issuer import contact_of
from app.invoices.models import CreditNote, Invoice
from app.invoices.schemas import CreditNoteRead
from app.invoices.search import DocumentSearchDep

router = APIRouter(tags=["invoices"])
DocumentID = Annotated[str, Path(max_length=40)]
Reader = Annotated[Principal, Depends(require(Role.OPERATOR, Role.CRM, Role.PORTAL))]
MEDIA_TYPE = "application/xml"


def pdf_response(description: str) -> dict[int | str, dict[str, Any]]:
    """The 200 of a route that answers a stored PDF."""
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {200: {"content": {"application/pdf": binary}, "description": description}}


XML_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {MEDIA_TYPE: {"schema": {"type": "string"}}},
        "description": "JP PINT 1.1.3 (UBL 2.1) document",
    }
}


async def _credit_note(
    session: AsyncSession, credit_note_id: str, actor: Principal
) -> tuple[CreditNote, Invoice]:
    note = await session.get(CreditNote, credit_note_id)
    invoice = None if note is None else await session.get(Invoice, note.invoice_id)
    if note is None or invoice is None or not actor.sees_customer(invoice.customer_id):
        raise NotFound(f"No credit note {credit_note_id}.", code="credit_note_not_found")
    return note, invoice


@router.get(
    "/v1/invoices/{invoice_id}/jp-pint",
    operation_id="invoices-jp-pint",
    summary="Download an invoice as JP PINT XML",
    response_class=Response,
    responses=XML_RESPONSE,
    openapi_extra=documents(etag=True),
)
async def get_invoice_jp_pint(
    invoice_id: DocumentID,
    request: Request,
    session: WriteSessionDep,  # the document is stored on its first read
    clock: ClockDep,
    actor: Reader,
) -> Response:
    """The invoice as a JP PINT 1.1.3 UBL Invoice: every line with its tax category
    (`S` 10 %, `O` 不課税), tax once per category in whole yen (R-CHG-4). Rendered once and
    served byte-identical for ever; the `ETag` is its SHA-256 (issue 14 §4)."""
    view = await receivables.get_view(session, invoice_id, actor)

    async def render() -> bytes:
        ids = await buyer_ids_of(session, view.invoice)
        contact = await contact_of(
            session, view.invoice.issuer_snapshot_id, request.app.state.settings
        )
        document = invoice_document(view.invoice, view.lines, ids, issuer_details(contact))
        return jp_pint.build(document)

    stored = await archive.fixed(
        session, "invoice", view.invoice.id, "jp-pint", MEDIA_TYPE, render, clock
    )
    return archive.respond(stored, f"{view.invoice.number}.xml")


@router.get(
    "/v1/credit-notes/{credit_note_id}",
    operation_id="credit-notes-get",
    summary="Read a credit note",
)
async def get_credit_note(
    credit_note_id: DocumentID, session: SessionDep, actor: Reader
) -> CreditNoteRead:
    """The credit note (返還インボイス, R-INV-4) with its lines and the invoice it corrects."""
    note, _ = await _credit_note(session, credit_note_id, actor)
    return CreditNoteRead.model_validate(note)


@router.get(
    "/v1/credit-notes/{credit_note_id}/jp-pint",
    operation_id="credit-notes-jp-pint",
    summary="Download a credit note as JP PINT XML",
    response_class=Response,
    responses=XML_RESPONSE,
    openapi_extra=documents(etag=True),
)
async def get_credit_note_jp_pint(
    credit_note_id: DocumentID,
    request: Request,
    session: WriteSessionDep,  # the document is stored on its first read
    clock: ClockDep,
    actor: Reader,
) -> Response:
    """The credit note as a JP PINT 1.1.3 UBL CreditNote naming the invoice it corrects
    (BillingReference). Rendered once, byte-identical for ever, `ETag` its SHA-256."""
    note, invoice = await _credit_note(session, credit_note_id, actor)

    async def render() -> bytes:
        ids = await buyer_ids_of(session, invoice)
        contact = await contact_of(session, note.issuer_snapshot_id, request.app.state.settings)
        return jp_pint.build(credit_note_document(note, invoice, ids, issuer_details(contact)))

    stored = await archive.fixed(
        session, "credit_note", note.id, "jp-pint", MEDIA_TYPE, render, clock
    )
    return archive.respond(stored, f"{note.number}.xml")


# Issue 14 §5: registered before the invoices router, so `export` is not taken for an id.
export_router = APIRouter(tags=["invoices"])


@export_router.get(
    "/v1/invoices/export",
    operation_id="invoices-export",
    summary="Export the index of issued invoices as CSV",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/csv": {"schema": {"type": "string"}}},
            "description": "CSV index, UTF-8, header first, oldest issue first",
        }
    },
)
async def export_invoices(
    request: Request, session: SessionDep, actor: Reader, found: DocumentSearchDep
) -> Response:
    """The CSV index (電子帳簿保存法: 可視性) for a tax office: number, kind, issue date,
    recipient, corporate number, tax by category, total, status and the SHA-256 of the
    stored documents; streamed with constant memory. Filters as the invoice list."""
    # The database answers before the stream starts (else 503, not a truncated file).
    await session.execute(select(literal(1)))
    customer_id = actor.customer_id if actor.role is Role.PORTAL else None
    sessionmaker = get_database(request).read_sessionmaker
    return StreamingResponse(
        index.rows(sessionmaker, found, customer_id),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="invoices.csv"'},
    )


@router.get("/v1/credit-notes", operation_id="credit-notes-list", summary="List credit notes")
async def list_credit_notes(
    session: SessionDep,
    page: PageParamsDep,
    actor: Reader,
    found: DocumentSearchDep,
    invoice_id: Annotated[str | None, Query(max_length=40)] = None,
    customer_id: Annotated[str | None, Query(max_length=40)] = None,
) -> Page[CreditNoteRead]:
    """Newest first. Filters combine: the invoice, the customer, issue dates, total (tax
    included) and the recipient's name on the corrected invoice (issue 14 §5). A portal key
    sees only its own customer's."""
    if actor.role is Role.PORTAL:
        if customer_id not in (None, actor.customer_id):
            return Page(items=[], next_cursor=None)
        customer_id = actor.customer_id
    stmt = select(CreditNote).join(Invoice, Invoice.id == CreditNote.invoice_id)
    if invoice_id is not None:
        stmt = stmt.where(CreditNote.invoice_id == invoice_id)
    if customer_id is not None:
        stmt = stmt.where(Invoice.customer_id == customer_id)
    stmt = found.apply(stmt, CreditNote.issued_on, CreditNote.total, Invoice.recipient_name)
    notes: list[CreditNote]
    notes, cursor = await paginate(
        session, stmt, keys=[CreditNote.id], key_of=lambda n: [n.id], params=page
    )
    return Page(items=[CreditNoteRead.model_validate(n) for n in notes], next_cursor=cursor)


@router.get(
    "/v1/credit-notes/{credit_note_id}/pdf",
    operation_id="credit-notes-pdf",
    summary="Download a credit note as PDF",
    response_class=Response,
    responses=pdf_response("適格返還請求書 (PDF)"),
    openapi_extra=documents(etag=True),
)
async def get_credit_note_pdf(
    credit_note_id: DocumentID,
    request: Request,
    session: WriteSessionDep,  # the document is stored on its first read
    clock: ClockDep,
    actor: Reader,
) -> Response:
    """The 返還請求書 naming the invoice it corrects (issue 14 §3). Rendered once and served
    byte-identical for ever; the `ETag` is its SHA-256 (§4)."""
    note, invoice = await _credit_note(session, credit_note_id, actor)
    settings = request.app.state.settings

    async def render() -> bytes:
        details = pay_details(await contact_of(session, note.issuer_snapshot_id, settings))
        return await asyncio.to_thread(
            credit_note_pdf.render, note, invoice, settings.invoice_font_path, details
        )

    stored = await archive.fixed(
        session, "credit_note", note.id, "pdf", "application/pdf", render, clock
    )
    return archive.respond(stored, f"{note.number}.pdf")


@router.get(
    "/v1/invoices/{invoice_id}/pdf",
    operation_id="invoices-pdf",
    summary="Download an invoice as PDF",
    response_class=Response,
    responses=pdf_response("適格請求書 (PDF)"),
    openapi_extra=documents(etag=True),
)
async def get_invoice_pdf(
    invoice_id: DocumentID,
    request: Request,
    session: WriteSessionDep,  # the document is stored on its first read
    clock: ClockDep,
    actor: Reader,
) -> Response:
    """The 適格請求書 as a PDF, the Japanese font embedded. Rendered once and served
    byte-identical for ever; the `ETag` is its SHA-256 (issue 14 §4)."""
    view = await receivables.get_view(session, invoice_id, actor)
    settings = request.app.state.settings

    async def render() -> bytes:
        contact = await contact_of(session, view.invoice.issuer_snapshot_id, settings)
        details = pay_details(contact)
        return await asyncio.to_thread(pdf.render, view, settings.invoice_font_path, details)

    stored = await archive.fixed(
        session, "invoice", view.invoice.id, "pdf", "application/pdf", render, clock
    )
    return archive.respond(stored, f"{view.invoice.number}.pdf")
