"""Requests of the onboarding service: its start, milestones, inspections, completion
(API.md "Onboarding")."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from app.contracts.schemas import Text
from app.core.validation import BusinessDate


class OnboardingStart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    started_on: BusinessDate
    performed_by: Literal["carrier", "partner"] = Field(
        default="carrier",
        description="Who performs the onboarding (Art. 20.3): the carrier or its partner. "
        "A partner key sees, and records milestones of, the contracts its partner performs.",
    )


class MilestoneDone(BaseModel):
    model_config = ConfigDict(extra="forbid")

    done_on: BusinessDate


class InspectionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    inspected_on: BusinessDate
    result: Literal["accepted", "nonconforming"]
    certificate_on: BusinessDate | None = Field(
        default=None,
        validate_default=True,
        description="Date of the inspection certificate; required when accepted.",
    )
    defects: list[Text] | None = Field(
        default=None,
        validate_default=True,
        description="Defects found; required when nonconforming.",
    )

    @field_validator("certificate_on")
    @classmethod
    def _certificate(cls, value: date | None, info: ValidationInfo) -> date | None:
        result, inspected_on = info.data.get("result"), info.data.get("inspected_on")
        if result == "accepted" and value is None:
            raise ValueError("required when the result is accepted (the 検収証 date)")
        if result == "nonconforming" and value is not None:
            raise ValueError("a nonconforming inspection has no certificate")
        if value is not None and inspected_on is not None and value < inspected_on:
            raise ValueError(f"cannot be before inspected_on ({inspected_on})")
        return value

    @field_validator("defects")
    @classmethod
    def _defects(cls, value: list[str] | None, info: ValidationInfo) -> list[str] | None:
        result = info.data.get("result")
        if result == "nonconforming" and not value:
            raise ValueError("list the defects found when the result is nonconforming")
        if result == "accepted" and value:
            raise ValueError("an accepted inspection lists no defects")
        return value


class OnboardingComplete(BaseModel):
    model_config = ConfigDict(extra="forbid")

    completed_on: BusinessDate = Field(
        description="The completion date: the service start (Art. 10.1)."
    )
