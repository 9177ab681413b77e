"""Requests and answers of a contract's endings: terminations and their quote,
cancellations, plan changes (API.md)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from app.contracts.schemas import ContractRead, LicenceIds, Options
from app.core.validation import BusinessDate, Count, Yen, business_window
from app.invoices.schemas import CreditNoteSummary, InvoiceRead
from app.pricing.catalogue import OnboardingKind, Plan
from app.pricing.early_termination import TerminationReason

Description = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class Cost(BaseModel):
    """A cost the carrier actually incurred (Art. 9.2, Art. 20.7), yen before tax."""

    model_config = ConfigDict(extra="forbid")

    description: Description
    amount: Yen


class TerminationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: TerminationReason
    effective_on: BusinessDate
    notice_on: BusinessDate | None = Field(
        default=None, description="Required for the contractor's reasons (R-TERM-3, R-TERM-4)."
    )
    breach_item: Count | None = Field(
        default=None, ge=1, le=13, description="Art. 14.2 item number; required for breach."
    )
    costs: list[Cost] = Field(
        default_factory=list,
        description="Costs incurred, billed for nonconformity_unresolved (Art. 20.7) and "
        "onboarding_deadline_exceeded (Art. 14.4 → Art. 9).",
    )


class TerminationQuote(BaseModel):
    allowed: bool
    reason: TerminationReason
    effective_on: date
    notice_on: date | None
    code: str | None = Field(default=None, description="Why it is not allowed.")
    detail: str | None = None
    earliest_effective_on: date | None
    notice_deadline: date | None
    term_end_on: date | None
    months: int
    early_termination_charge: int


class CancellationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cancelled_on: BusinessDate
    contractor_at_fault: bool = True
    actual_costs: list[Cost] = Field(default_factory=list)


class PlanChangeCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plan: Plan
    license_ids: LicenceIds | None = Field(default=None, description="Default: as now.")
    notice_on: BusinessDate
    effective_on: BusinessDate = Field(description="When the old contract ends (R-LC-8).")
    received_on: BusinessDate = Field(description="When the new application was received.")
    options: Options | None = Field(default=None, description="Default: the options now.")
    onboarding_kind: OnboardingKind | None = Field(default=None, description="Default: as now.")
    planned_installation_on: BusinessDate | None = Field(
        default=None, validate_default=True, description="Default: the day after effective_on."
    )

    @field_validator("planned_installation_on")
    @classmethod
    def _new_installation(cls, value: date | None, info: ValidationInfo) -> date | None:
        """The new application's installation, given or by default, is a date of the
        new application like any other (issue 9 §4, R-LC-1): in the window and not
        before its receipt, refused here rather than when the application is filed."""
        effective_on, received_on = info.data.get("effective_on"), info.data.get("received_on")
        if value is None and effective_on is not None:
            value = business_window().check_date(
                effective_on + timedelta(days=1), what="the default, the day after effective_on"
            )
        if value is not None and received_on is not None and value < received_on:
            raise ValueError(f"cannot be before received_on ({received_on})")
        return value


class PlanChangeRead(BaseModel):
    terminated: ContractRead
    application: ContractRead


class CancellationRead(BaseModel):
    """The cancellation invoice (null when the contractor is not at fault), the contract,
    and any credit notes refunding paid one-time items (Art. 9.4)."""

    invoice: InvoiceRead | None
    contract: ContractRead
    credit_notes: list[CreditNoteSummary]
