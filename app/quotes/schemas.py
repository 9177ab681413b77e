from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from app.core.errors import register_field_rules
from app.core.validation import BusinessDate
from app.pricing.catalogue import MAX_LICENCE_IDS, MIN_LICENCE_IDS, OnboardingKind, Plan

register_field_rules(
    {
        "plan": "R-CAT-1",
        "onboarding_kind": "R-CAT-1",
        "options": "R-CAT-1",
        "license_ids": "R-CAT-2",
    }
)


class QuoteOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    soc: bool = Field(default=False, description="SOC security analysis (R-CAT-3).")
    reserved_ip: bool = False
    ad_integration: bool = Field(default=False, description="A one-time item (R-CHG-3).")

    def chosen(self) -> list[str]:
        return [name for name, on in self.model_dump().items() if on]


class QuoteCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plan: Plan
    license_ids: int = Field(
        strict=True,
        ge=MIN_LICENCE_IDS,
        le=MAX_LICENCE_IDS,
        description="Licence IDs (R-CAT-2).",
        examples=[50],
    )
    options: QuoteOptions = Field(default_factory=QuoteOptions)
    onboarding_kind: OnboardingKind
    on: BusinessDate | None = Field(
        default=None, description="The date whose price book applies; default today (Tokyo)."
    )


class QuoteLine(BaseModel):
    item: str
    description: str
    quantity: int
    unit_price: int
    amount: int
    taxable: bool


class QuoteLines(BaseModel):
    lines: list[QuoteLine]
    total: int


class QuoteFirstInvoice(BaseModel):
    taxable_subtotal: int
    tax: int
    non_taxable_subtotal: int
    total: int


class QuoteFirstYear(BaseModel):
    subtotal: int
    tax: int
    total: int


class QuotePriceBook(BaseModel):
    id: str
    effective_from: date


class QuoteRead(BaseModel):
    on: date = Field(description="The date the quote was priced for.")
    monthly: QuoteLines = Field(description="One whole month of the monthly items.")
    one_time: QuoteLines = Field(description="Onboarding and AD integration (R-CHG-3).")
    first_invoice: QuoteFirstInvoice = Field(
        description="The first month plus the one-time items; tax once per invoice (R-CHG-4)."
    )
    first_year: QuoteFirstYear = Field(
        description="The one-time items plus 12 months; its tax is the sum of the 12 "
        "invoices' taxes."
    )
    price_book: QuotePriceBook
