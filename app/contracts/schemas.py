from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from app.contracts.states import Status
from app.core.validation import BusinessDate, Count, Email, Name, Phone
from app.pricing.catalogue import OnboardingKind, Plan

LicenceIds = Annotated[
    Count, Field(ge=1, le=1_000_000, description="IDs, 1 to 1,000,000 (R-CAT-2).")
]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]


class Administrator(BaseModel):
    """A service administrator (サービス管理者, Art. 7.2)."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    email: Email
    phone: Phone


class Options(BaseModel):
    model_config = ConfigDict(extra="forbid")

    soc: bool = False
    reserved_ip: bool = False
    ad_integration: bool = False


class ApplicationCreate(BaseModel):
    """An application (R-LC-1, Art. 7)."""

    model_config = ConfigDict(extra="forbid")

    customer_id: str = Field(max_length=40)
    plan: Plan
    license_ids: LicenceIds
    options: Options = Field(default_factory=Options)
    onboarding_kind: OnboardingKind
    received_on: BusinessDate = Field(description="The day the carrier received the form.")
    planned_installation_on: BusinessDate = Field(
        description="導入予定日, the planned installation."
    )
    administrators: list[Administrator] = Field(
        min_length=2, max_length=2, description="Exactly two service administrators (R-LC-1)."
    )

    @field_validator("planned_installation_on")
    @classmethod
    def _installation_after_receipt(cls, value: date, info: ValidationInfo) -> date:
        received_on = info.data.get("received_on")
        if received_on is not None and value < received_on:
            raise ValueError(f"cannot be before received_on ({received_on})")
        return value


class AcceptRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    out_of_order_reason: Text | None = Field(
        default=None,
        description="Why an application is accepted before an earlier one (Art. 8.1 proviso).",
    )


class RejectionReason(StrEnum):
    """Art. 8.3 (1)–(5)."""

    FALSE_STATEMENT = "false_statement"
    TECHNICALLY_INFEASIBLE = "technically_infeasible"
    PAYMENT_RISK = "payment_risk"
    BUSINESS_IMPEDIMENT = "business_impediment"
    ANTISOCIAL_FORCES = "antisocial_forces"


class RejectRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: RejectionReason
    notice: Text = Field(description="The notice sent to the applicant (Art. 8.4).")
    rejected_on: BusinessDate | None = Field(default=None, description="Default: today.")


class WithdrawRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    withdrawn_on: BusinessDate | None = Field(default=None, description="Default: today.")
    reason: Text | None = None


# ---- read models ---------------------------------------------------------------------


class MilestoneRead(BaseModel):
    key: str
    done_on: date | None


class InspectionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    inspected_on: date
    result: str
    certificate_on: date | None
    defects: list[str] | None


class OnboardingRead(BaseModel):
    kind: OnboardingKind
    planned_installation_on: date
    deadline: date = Field(description="Last day of the month after the planned month (R-LC-6).")
    overdue: bool
    started_on: date | None
    performed_by: Literal["carrier", "partner"] | None = Field(
        description="Who performs the onboarding service (Art. 20.3); set when it starts."
    )
    milestones: list[MilestoneRead]
    inspections: list[InspectionRead]
    completed_on: date | None
    warranty_until: date | None


class TermRead(BaseModel):
    start_on: date
    end_on: date
    notice_deadline: date = Field(description="Last day to give non-renewal notice (R-TERM-3).")
    renewals: int


class RejectionRead(BaseModel):
    rejected_on: date
    reason: RejectionReason
    notice: str


class TerminationRead(BaseModel):
    reason: str
    effective_on: date
    notice_on: date | None
    breach_item: int | None
    recorded_on: date | None
    done: bool = Field(description="The effective date has passed.")


class ContractRead(BaseModel):
    id: str
    customer_id: str
    status: Status
    plan: Plan
    license_ids: int
    options: Options
    received_on: date
    accepted_on: date | None
    out_of_order_reason: str | None
    rejection: RejectionRead | None
    withdrawn_on: date | None
    administrators: list[Administrator]
    onboarding: OnboardingRead
    service_start_on: date | None
    term: TermRead | None
    termination: TerminationRead | None = Field(
        default=None, description="The scheduled or completed termination."
    )
    monthly_charge: int = Field(description="Before tax, at today's price book (R-CHG-1/2).")
    liability_cap: int = Field(description="One month of the monthly charge (R-CHG-10).")
    predecessor_id: str | None
    successor_id: str | None
    created_at: datetime
    updated_at: datetime


class EventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    type: str
    business_date: date
    occurred_at: datetime
    actor_key_id: str
    payload: dict[str, Any]
