"""Requests and answers of the changes of a running contract: licences, options,
suspensions (API.md)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.contracts.schemas import LicenceIds
from app.core.validation import BusinessDate


class LicenceChangeCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    license_ids: LicenceIds
    effective_on: BusinessDate
    notice_on: BusinessDate | None = Field(
        default=None, description="Written notice date; required for a decrease (R-TERM-3)."
    )


class LicenceChangeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    effective_on: date
    license_ids: int
    previous_license_ids: int
    notice_on: date | None
    early_termination_charge: int = 0


class OptionAdd(BaseModel):
    model_config = ConfigDict(extra="forbid")

    option: Literal["soc", "reserved_ip", "ad_integration"]
    effective_on: BusinessDate


class OptionRemoval(BaseModel):
    model_config = ConfigDict(extra="forbid")

    option: Literal["soc", "reserved_ip", "ad_integration"]
    notice_on: BusinessDate
    effective_on: BusinessDate


class SuspensionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    starts_on: BusinessDate
    ends_on: BusinessDate | None = None
    reason: Literal["breach", "third_party_harm", "maintenance", "contractor_request", "other"]


class SuspensionEnd(BaseModel):
    """The last day of an open-ended suspension; the service resumes the day after."""

    model_config = ConfigDict(extra="forbid")

    ends_on: BusinessDate


class SuspensionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    starts_on: date
    ends_on: date | None
    reason: str
