from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from app.core.validation import BusinessDate


class SandboxClockRead(BaseModel):
    today: date = Field(description="The sandbox's today (Asia/Tokyo): every rule reads this.")
    now: datetime = Field(description="The sandbox's current instant.")
    real_now: datetime = Field(description="The real current instant.")
    offset_days: int = Field(ge=0, description="How many days the sandbox runs ahead.")


class Happened(BaseModel):
    """What the days passed did, counted by kind."""

    days: int = 0
    renewals: int = 0
    terminations: int = 0
    billing_runs: int = 0
    invoices_issued: int = 0
    invoices_overdue: int = 0


class SandboxClockMove(BaseModel):
    model_config = ConfigDict(extra="forbid")

    today: BusinessDate = Field(
        description="The date to move to: today or later (the clock never goes back)."
    )


class SandboxClockMoved(SandboxClockRead):
    happened: Happened
