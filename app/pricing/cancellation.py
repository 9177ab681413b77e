"""Cancellation before the service start (R-CHG-6; Art. 9).

From acceptance to the onboarding start the fee (解約金) is the contract's one-time items
plus the actual costs the carrier reports; from the onboarding start to the service start
it adds twelve months of the monthly charge. Not at fault: no fee, and one-time items
already paid are refunded (credit note, outside this module). Invoiced at once, with tax.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.pricing.catalogue import CHARGE_KIND_NAMES, ChargeKind
from app.pricing.errors import InvalidAmount
from app.pricing.lines import ChargeLine
from app.pricing.one_time import one_time_lines
from app.pricing.price_book import PriceBook
from app.pricing.recurring import ContractShape
from app.pricing.recurring import monthly_charge as _monthly_charge

CANCELLATION_MONTHS = 12  # Art. 9.3: 1年間分に相当する月額料金


@dataclass(frozen=True, slots=True)
class CancellationFee:
    """The fee's lines and sum; ``refund_paid_one_time`` when the contractor is not at fault."""

    lines: tuple[ChargeLine, ...]
    amount: int
    refund_paid_one_time: bool


def cancellation_fee(
    book_for_one_time: PriceBook,
    shape: ContractShape,
    onboarding_kind: str,
    ad_integration: bool,
    onboarding_started: bool,
    actual_costs: Sequence[tuple[str, int]],
    contractor_at_fault: bool,
    monthly_charge: int | None = None,
) -> CancellationFee:
    """R-CHG-6: the cancellation fee (Art. 9.2–9.4).

    ``book_for_one_time`` is the version in effect on ``received_on`` (R-CAT-4); it prices
    the one-time items and decides whether ``cancellation`` is taxable (default yes).
    ``monthly_charge`` is the monthly charge of ``shape``; when omitted it is priced with
    the same book. Example E (B, 200,000 costs): 1,550,000 before the onboarding start,
    7,564,400 after it.
    """
    if not contractor_at_fault:
        return CancellationFee(lines=(), amount=0, refund_paid_one_time=True)
    taxable = book_for_one_time.is_taxable(ChargeKind.CANCELLATION)
    name = CHARGE_KIND_NAMES[ChargeKind.CANCELLATION]
    item = str(ChargeKind.CANCELLATION)
    lines = [
        ChargeLine(
            item=item,
            description=f"{name}（{line.description}）",
            quantity=line.quantity,
            unit_price=line.unit_price,
            amount=line.amount,
            taxable=taxable,
            rule="R-CHG-6",
        )
        for line in one_time_lines(book_for_one_time, onboarding_kind, ad_integration)
    ]
    for description, cost in actual_costs:
        if isinstance(cost, bool) or not isinstance(cost, int) or cost < 0:
            raise InvalidAmount(
                f"An actual cost is whole, non-negative yen, not {cost!r}.",
                rule="R-CHG-6",
                facts={"description": description, "amount": cost},
            )
        lines.append(
            ChargeLine(
                item=item,
                description=f"{name}（実費: {description}）",
                quantity=1,
                unit_price=cost,
                amount=cost,
                taxable=taxable,
                rule="R-CHG-6",
            )
        )
    if onboarding_started:
        monthly = (
            monthly_charge
            if monthly_charge is not None
            else _monthly_charge(book_for_one_time, shape)
        )
        if isinstance(monthly, bool) or not isinstance(monthly, int) or monthly < 0:
            raise InvalidAmount(
                f"The monthly charge is whole, non-negative yen, not {monthly!r}.",
                rule="R-CHG-6",
                facts={"monthly_charge": monthly},
            )
        lines.append(
            ChargeLine(
                item=item,
                description=f"{name}（月額料金{CANCELLATION_MONTHS}か月分）",
                quantity=CANCELLATION_MONTHS,
                unit_price=monthly,
                amount=CANCELLATION_MONTHS * monthly,
                taxable=taxable,
                rule="R-CHG-6",
            )
        )
    return CancellationFee(
        lines=tuple(lines),
        amount=sum(line.amount for line in lines),
        refund_paid_one_time=False,
    )
