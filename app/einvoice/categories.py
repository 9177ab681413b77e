"""Tax categories of JP PINT lines (issue 14 §1, R-CHG-4).

The price book decides which charge kinds bear consumption tax (``taxable_kinds``, data
per version, R-CAT-4); every invoice line stores that verdict (``taxable``) at issue. A
taxable line is category ``S`` (standard rate, the invoice's stored rate, 10 %); every
other line is ``O``, outside the scope of consumption tax (不課税): by default the
early-termination charge (Art. 24) and late-payment charges (Art. 17) are compensation,
not consideration for a supply, so they are not 非課税 (exempt, ``E``) but 不課税.
"""

from __future__ import annotations

from enum import StrEnum


class TaxCategory(StrEnum):
    STANDARD = "S"  # 10 %対象
    OUTSIDE_SCOPE = "O"  # 不課税


def category_of(taxable: bool) -> TaxCategory:
    return TaxCategory.STANDARD if taxable else TaxCategory.OUTSIDE_SCOPE
