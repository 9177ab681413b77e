from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.core.validation import BusinessMonth, Yen


class AdHocKind(StrEnum):
    """R-CHG-8 and R-CHG-9: charges entered by hand (Tariff ※3, ※4, Art. 25, Art. 27.2)."""

    OVERAGE = "overage"
    WORK = "work"
    COLLECTION = "collection"
    SURCHARGE = "surcharge"
    OTHER = "other"


class AdHocChargeCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: AdHocKind
    description: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)
    ]
    amount: Yen = Field(
        description="Yen before tax. For a surcharge: the evaded amount X (R-CHG-8).",
    )
    month: BusinessMonth = Field(description="The billing month whose invoice carries the charge.")
    taxable: bool | None = Field(
        default=None, description="Default: the price book's ruling for the kind (R-CHG-4)."
    )


class ChargeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: str
    item: str
    description: str
    quantity: int
    unit_price: int
    amount: int
    taxable: bool
    month: str
    rule: str
    invoice_id: str | None
    created_at: datetime
