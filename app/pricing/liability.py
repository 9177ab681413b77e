"""Liability cap (R-CHG-10; Art. 28.3): one month of the contract's monthly charge."""

from __future__ import annotations

from app.pricing.errors import InvalidAmount


def liability_cap(monthly_charge: int) -> int:
    """The most the carrier pays in damages: one month of the monthly charge (before tax).

    Art. 28.3 says 月額料金1ヶ月分; the monthly charge is quoted before tax throughout the
    tariff, so the cap is too.
    """
    if isinstance(monthly_charge, bool) or not isinstance(monthly_charge, int):
        raise InvalidAmount("The monthly charge is whole yen.", rule="R-CHG-10")
    if monthly_charge < 0:
        raise InvalidAmount(
            "The monthly charge cannot be negative.",
            rule="R-CHG-10",
            facts={"monthly_charge": monthly_charge},
        )
    return monthly_charge
