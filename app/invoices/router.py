"""Invoices (API.md "Billing"): reading them, payments, void, credit notes and
late charges. Admin, operator and CRM keys read every invoice, a portal key only its
customer's (another's is a 404); payments, voids and credit notes are operator work."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status

from app.auth.dependencies import require
from app.auth.roles import Role
from app.auth.service import Principal
from app.core.database import ReadConnectionDep, SessionDep
from app.core.http import ClockDep, json_response, json_text_response
from app.core.lean import lean_get
from app.core.openapi import documents
from app.core.pagination import Page, PageParamsDep
from app.core.validation import BusinessDate, BusinessMonth
from app.invoices import credit_notes, late_charges, payments, read_model, receivables
from app.invoices.repository import InvoiceFilter
from app.invoices.schemas import (
    CreditNoteCreate,
    CreditNoteRead,
    InvoiceRead,
    InvoiceStatus,
    LateChargeRead,
    LedgerChargeRef,
    PaymentCreate,
    PaymentRead,
    PaymentResult,
    VoidRequest,
)
from app.invoices.search import DocumentSearchDep

router = APIRouter(prefix="/v1/invoices", tags=["invoices"])
InvoiceID = Annotated[str, Path(max_length=40)]
Reader = Annotated[Principal, Depends(require(Role.OPERATOR, Role.CRM, Role.PORTAL))]
Operator = Annotated[Principal, Depends(require(Role.OPERATOR))]


def _read(view: receivables.InvoiceView, today: date, response: Response) -> InvoiceRead:
    response.headers["ETag"] = receivables.etag(view)
    return receivables.to_read(view, today)


@lean_get(
    router,
    "",
    response_model=Page[InvoiceRead],
    operation_id="invoices-list",
    summary="List invoices",
)
async def list_invoices(
    connection: ReadConnectionDep,
    clock: ClockDep,
    page: PageParamsDep,
    actor: Reader,
    found: DocumentSearchDep,
    contract_id: Annotated[str | None, Query(max_length=40)] = None,
    customer_id: Annotated[str | None, Query(max_length=40)] = None,
    month: Annotated[BusinessMonth | None, Query(description="`YYYY-MM`.")] = None,
    status: Annotated[InvoiceStatus | None, Query(description="`overdue` is derived.")] = None,
) -> Response:
    """Newest first. A portal key sees only its own customer's invoices. Filters combine:
    issue dates, total (tax included) and recipient name (issue 14 §5)."""
    status_value = status.value if status else None
    filters = InvoiceFilter(contract_id, customer_id, month, status_value, found)
    page_json = await read_model.page(connection, filters, actor, clock.today(), page)
    return json_text_response(page_json)


@lean_get(
    router,
    "/{invoice_id}",
    response_model=InvoiceRead,
    operation_id="invoices-get",
    summary="Read an invoice",
    openapi_extra=documents(etag=True),
)
async def get_invoice(
    invoice_id: InvoiceID, connection: ReadConnectionDep, clock: ClockDep, actor: Reader
) -> Response:
    """The invoice with its lines, tax, payments and balance, and its `ETag`; `overdue`
    is derived from today."""
    invoice, tag = await read_model.read(connection, invoice_id, actor, clock.today())
    return json_response(invoice, headers={"ETag": tag})


@router.get(
    "/{invoice_id}/late-charge",
    operation_id="invoices-late-charge",
    summary="Compute an invoice's late charge",
    openapi_extra=documents(409),
)
async def get_late_charge(
    invoice_id: InvoiceID,
    session: SessionDep,
    clock: ClockDep,
    actor: Reader,
    as_of: Annotated[BusinessDate | None, Query(description="Default: today (Tokyo).")] = None,
) -> LateChargeRead:
    """R-CHG-7 as of a date, counting the payments made up to that date."""
    return await late_charges.late_charge(session, invoice_id, as_of or clock.today(), actor)


@router.post(
    "/{invoice_id}/payments",
    status_code=status.HTTP_201_CREATED,
    operation_id="invoices-pay",
    summary="Record a payment",
    openapi_extra=documents(409),
)
async def record_payment(
    invoice_id: InvoiceID,
    data: PaymentCreate,
    session: SessionDep,
    clock: ClockDep,
    actor: Operator,
) -> PaymentResult:
    """A payment of at most the balance; the payment that settles a late invoice records
    its late charge for the contract's next invoice (R-CHG-7)."""
    outcome = await payments.record_payment(session, invoice_id, data, actor, clock)
    return PaymentResult(
        payment=PaymentRead.model_validate(outcome.payment),
        invoice=receivables.to_read(outcome.view, clock.today()),
        late_charge=(
            LedgerChargeRef.model_validate(outcome.late_charge) if outcome.late_charge else None
        ),
    )


@router.post(
    "/{invoice_id}/void",
    operation_id="invoices-void",
    summary="Void an invoice",
    openapi_extra=documents(409, etag=True),
)
async def void_invoice(
    invoice_id: InvoiceID,
    data: VoidRequest,
    session: SessionDep,
    clock: ClockDep,
    actor: Operator,
    response: Response,
) -> InvoiceRead:
    """Only while nothing is paid or credited; its month may be billed again and its
    ledger charges return to unbilled (R-INV-4, R-INV-1)."""
    view = await receivables.void_invoice(session, invoice_id, data.reason, actor, clock)
    return _read(view, clock.today(), response)


@router.post(
    "/{invoice_id}/credit-notes",
    status_code=status.HTTP_201_CREATED,
    operation_id="invoices-credit",
    summary="Issue a credit note",
    openapi_extra=documents(409),
)
async def create_credit_note(
    invoice_id: InvoiceID,
    data: CreditNoteCreate,
    session: SessionDep,
    clock: ClockDep,
    actor: Operator,
    request: Request,
) -> CreditNoteRead:
    """A 返還インボイス: tax once per note; never more than the invoice bore (R-INV-4)."""
    note = await credit_notes.create_credit_note(
        session, invoice_id, data, actor, clock, request.app.state.settings
    )
    return CreditNoteRead.model_validate(note)
