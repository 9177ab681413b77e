"""SOC status reports (API.md "Partners", issue 13 §1)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from app.contracts.schemas import Text
from app.core.validation import BusinessDate

Status = Literal["normal", "warning", "incident", "critical"]


class SocReportCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    contract_id: str = Field(max_length=40)
    period_start: BusinessDate
    period_end: BusinessDate = Field(description="On or after `period_start`; not in the future.")
    status: Status
    incident_count: int = Field(ge=0, le=1_000_000)
    summary: Text
    supersedes_id: str | None = Field(
        default=None,
        max_length=40,
        description="A correction: the report of the same contract and period it replaces.",
    )

    @field_validator("period_end")
    @classmethod
    def _ordered(cls, value: date, info: ValidationInfo) -> date:
        start = info.data.get("period_start")
        if start is not None and value < start:
            raise ValueError("period_end must be on or after period_start")
        return value


class SocReportRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    contract_id: str
    customer_id: str
    period_start: date
    period_end: date
    status: Status
    incident_count: int
    summary: str
    supersedes_id: str | None
    superseded_by_id: str | None = Field(
        default=None, description="The correction that replaced this report, if any."
    )
    reported_by: str = Field(description="The id of the key that reported it.")
    created_at: datetime
