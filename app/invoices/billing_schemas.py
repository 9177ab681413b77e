"""Schemas of bill runs and the invoice preview (API.md "Billing")."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.core.clock import TOKYO
from app.core.validation import BusinessDate, BusinessMonth
from app.invoices.models import BillingRun


class BillingRunCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    month: BusinessMonth = Field(
        description="The service month to invoice, `YYYY-MM`; it must have ended (R-INV-1)."
    )
    dry_run: bool = Field(
        default=False,
        description="Compute every invoice and count them, store none (only the run).",
    )
    issued_on: BusinessDate | None = Field(
        default=None,
        description="The issue date of the run's invoices (R-INV-1). Default: the month's "
        "scheduled issue day when the run is on time, else today. An explicit date must lie "
        "between the scheduled issue day and today (loading history from another system).",
    )


class BillingRunRead(BaseModel):
    id: str
    status: Literal["queued", "running", "finished", "failed"] = Field(
        description="`queued` until a worker takes the run up (issue 12 §5)."
    )
    month: str
    dry_run: bool
    invoices_created: int = Field(
        description="Invoices this run issued (a dry run: the invoices it would issue)."
    )
    invoices_existing: int = Field(description="Contracts already invoiced for the month.")
    failed: int = Field(description="Contracts whose invoice could not be drafted (logged).")
    started_at: datetime
    finished_at: datetime | None
    error: str | None = Field(description="Why the run failed; a new run resumes it.")
    issued_on: date | None = Field(
        description="The issue date the run's invoices carry (R-INV-1); empty only for old "
        "runs that issued nothing."
    )
    scheduled_issue_on: date | None = Field(
        description="The month's scheduled issue day (settings: the issue day of the next month)."
    )
    late: bool = Field(
        description="True when the run started after the month's scheduled issue day "
        "(its invoices are then dated today by default, not on the scheduled day)."
    )

    @classmethod
    def of(cls, run: BillingRun) -> BillingRunRead:
        return cls(
            id=run.id,
            status=run.status,
            month=run.month,
            dry_run=run.dry_run,
            invoices_created=run.invoices_created,
            invoices_existing=run.invoices_existing,
            failed=run.failed,
            started_at=run.started_at,
            finished_at=run.finished_at,
            error=run.error,
            issued_on=run.issued_on,
            scheduled_issue_on=run.scheduled_issue_on,
            late=is_late(run),
        )


def is_late(run: BillingRun) -> bool:
    """Whether the run started (Tokyo date) after the month's scheduled issue day."""
    if run.scheduled_issue_on is None:
        return False
    return run.started_at.astimezone(TOKYO).date() > run.scheduled_issue_on


class PreviewLine(BaseModel):
    item: str
    description: str
    quantity: int
    unit_price: int
    amount: int
    taxable: bool
    rule: str
    charge_id: str | None = Field(description="The ledger charge the line bills, if any.")


class PreviewRecipient(BaseModel):
    customer_id: str
    name: str


class PreviewIssuer(BaseModel):
    name: str
    registration_number: str


class InvoicePreviewRead(BaseModel):
    """What the month's monthly invoice of the contract is, or would be (not stored)."""

    contract_id: str
    month: str
    kind: Literal["monthly"] = "monthly"
    invoiced: bool = Field(
        description="True when the month is already invoiced: the content is that invoice's."
    )
    billable: bool = Field(
        description="Whether the contract has service in the month, so a bill run issues "
        "an invoice for it (R-CHG-1). False: no invoice, no lines."
    )
    invoice_id: str | None
    number: str | None
    issued_on: date
    due_on: date
    recipient: PreviewRecipient
    issuer: PreviewIssuer
    lines: list[PreviewLine]
    tax_rate_percent: str
    taxable_subtotal: int
    tax: int
    non_taxable_subtotal: int
    total: int
