"""Request and response bodies of the invoice (receivables) API (API.md "Billing")."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.core.validation import BusinessDate, Yen

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class InvoiceStatus(StrEnum):
    """R-INV-4; ``overdue`` is derived on read (issued, unpaid, today after the due date)."""

    ISSUED = "issued"
    OVERDUE = "overdue"
    PAID = "paid"
    VOID = "void"
    CREDITED = "credited"


class IssuerRead(BaseModel):
    name: str
    registration_number: str = Field(description="適格請求書発行事業者登録番号, T + 13 digits.")


class RecipientRead(BaseModel):
    name: str


class InvoiceLineRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    item: str
    description: str
    quantity: int
    unit_price: int
    amount: int
    taxable: bool


class CreditNoteSummary(BaseModel):
    id: str
    number: str
    issued_on: date
    total: int


class InvoiceRead(BaseModel):
    id: str
    number: str
    contract_id: str
    customer_id: str
    kind: str
    month: str
    issued_on: date
    due_on: date
    recipient: RecipientRead
    issuer: IssuerRead
    lines: list[InvoiceLineRead]
    taxable_subtotal: int
    tax: int
    non_taxable_subtotal: int
    total: int
    amount_paid: int
    amount_credited: int
    balance: int = Field(description="total − amount_paid − amount_credited.")
    status: InvoiceStatus
    voided_on: date | None
    void_reason: str | None
    credit_notes: list[CreditNoteSummary]


class PaymentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    paid_on: BusinessDate
    amount: Yen = Field(description="Yen received; at most the balance.")
    reference: Annotated[
        str | None, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)
    ] = None


class PaymentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    invoice_id: str
    paid_on: date
    amount: int
    reference: str | None


class LedgerChargeRef(BaseModel):
    """The late-payment charge written to the ledger for the contract's next invoice."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    amount: int
    month: str
    taxable: bool
    invoice_id: str | None


class PaymentResult(BaseModel):
    payment: PaymentRead
    invoice: InvoiceRead
    late_charge: LedgerChargeRef | None = Field(
        description="R-CHG-7: recorded when this payment completed a late invoice."
    )


class VoidRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Text


class CreditNoteLineCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: Text
    amount: Yen = Field(description="Yen credited, before tax.")
    taxable: bool


class CreditNoteCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Text
    lines: list[CreditNoteLineCreate] = Field(min_length=1, max_length=100)


class CreditNoteLineRead(BaseModel):
    description: str
    amount: int
    taxable: bool


class CreditNoteRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    number: str
    invoice_id: str
    issued_on: date
    reason: str
    lines: list[CreditNoteLineRead]
    taxable_subtotal: int
    tax: int
    non_taxable_subtotal: int
    total: int


class LateSegmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    from_on: date
    to_on: date
    balance: int
    days: int


class LateChargeRead(BaseModel):
    """R-CHG-7 as of a date, counting the payments made up to it."""

    amount: int
    days: int
    waived: bool = Field(description="Paid in full within 10 days from the day after due.")
    in_grace: bool = Field(description="Unpaid, but still within those 10 days.")
    segments: list[LateSegmentRead]
    due_on: date
    balance: int = Field(description="Unpaid on as_of (late charges excluded).")
    as_of: date
    rate_percent: str
    rule: str
    recorded: LedgerChargeRef | None = Field(
        description="The ledger charge once the invoice has been paid in full."
    )
