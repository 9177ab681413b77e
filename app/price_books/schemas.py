from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.core.errors import register_field_rules
from app.core.validation import BusinessDate
from app.price_books.models import PriceBookVersion
from app.pricing.catalogue import ChargeKind

MAX_UNIT_PRICE = 1_000_000_000  # yen; keeps every invoice amount far inside 64 bits.

register_field_rules(
    {
        "effective_from": "R-CAT-4",
        "items": "R-CAT-4",
        "tax_rate_percent": "R-CAT-4",
        "late_payment_rate_percent": "R-CAT-4",
        "taxable_kinds": "R-CHG-4",
    }
)

# A percentage as an exact decimal: a JSON number or a string ("14.5"). Numbers are read
# through their decimal text, so 14.5 is 14.5, never the binary fraction nearest to it.
Percent = Annotated[
    Decimal,
    Field(ge=0, le=100, max_digits=7, decimal_places=4, examples=["14.5"]),
]
UnitPrice = Annotated[int, Field(strict=True, ge=0, le=MAX_UNIT_PRICE)]


class PriceBookCreate(BaseModel):
    """A new version of the whole price book (R-CAT-4): every catalogue item is priced."""

    model_config = ConfigDict(extra="forbid")

    effective_from: BusinessDate = Field(
        description="The first day of a month no invoice has been issued for yet."
    )
    items: dict[str, UnitPrice] = Field(
        description="Unit price in yen before tax for every catalogue code, and no other.",
        examples=[{"basic": 50_000, "foundation-essential": 8_600}],
    )
    tax_rate_percent: Percent
    late_payment_rate_percent: Percent
    taxable_kinds: list[ChargeKind] | None = Field(
        default=None,
        description="Charge kinds that bear consumption tax (R-CHG-4); default: every kind "
        "except early-termination and late-payment.",
    )


class PriceBookRead(BaseModel):
    id: str
    effective_from: date
    items: dict[str, int]
    tax_rate_percent: Decimal = Field(description='Exact decimal text, e.g. "10".')
    late_payment_rate_percent: Decimal = Field(description='Exact decimal text, e.g. "14.5".')
    taxable_kinds: list[str]
    created_at: datetime

    @classmethod
    def of(cls, version: PriceBookVersion) -> PriceBookRead:
        return cls(
            id=version.id,
            effective_from=version.effective_from,
            items=dict(sorted(version.prices.items())),
            tax_rate_percent=Decimal(version.tax_rate_percent),
            late_payment_rate_percent=Decimal(version.late_payment_rate_percent),
            taxable_kinds=sorted(version.taxable_kinds),
            created_at=version.created_at,
        )
