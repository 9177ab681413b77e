"""Late-payment charge (R-CHG-7; Art. 26).

14.5 % a year on the unpaid balance (late charges excluded), on a 365-day year even in
leap years, from the day after the due date to the day before each payment; floored once
per invoice. Nothing is due when the whole invoice is paid within 10 days counted from the
day after the due date. Billed on the contract's next invoice, non-taxable (R-CHG-4).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from app.pricing.catalogue import CHARGE_KIND_NAMES, ChargeKind
from app.pricing.errors import InvalidAmount
from app.pricing.lines import ChargeLine
from app.pricing.price_book import DEFAULT_TAXABLE_KINDS, PriceBook

DAYS_IN_YEAR = 365  # Art. 26 年14.5%: a 365-day year, leap years included.
GRACE_DAYS = 10  # Art. 26 ただし書: 支払期日の翌日から起算して10日以内
_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class LateSegment:
    """``days`` days (``from_on`` to ``to_on``, both included) on an unpaid ``balance``."""

    from_on: date
    to_on: date
    balance: int
    days: int


@dataclass(frozen=True, slots=True)
class LateCharge:
    """The late charge of one invoice; ``in_grace`` while unpaid but within the 10 days."""

    amount: int
    days: int
    waived: bool
    segments: tuple[LateSegment, ...]
    in_grace: bool = False
    rule: str = "R-CHG-7"


def _check_yen(name: str, value: object, *, positive: bool) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < (1 if positive else 0):
        raise InvalidAmount(
            f"{name} must be whole {'positive' if positive else 'non-negative'} yen, "
            f"not {value!r}.",
            rule="R-CHG-7",
            facts={name: value},
        )
    return value


def grace_end(due_on: date) -> date:
    """The last day on which paying in full still waives the late charge (Art. 26)."""
    return due_on + timedelta(days=GRACE_DAYS)


def late_payment_charge(
    invoice_total: int,
    due_on: date,
    payments: Sequence[tuple[date, int]],
    as_of: date,
    rate_percent: Decimal,
) -> LateCharge:
    """R-CHG-7: the late charge of an invoice as known on ``as_of``.

    Only payments made on or before ``as_of`` count. A balance still unpaid accrues up to
    the day before ``as_of``: the charge if the rest were paid on ``as_of``. Payments on or
    before the due date reduce the balance free of interest. The sum of balance × days over
    the segments is multiplied by the rate once and floored once, in integers.
    Example F: 707,300 due 2026-07-31, paid 2026-08-11 → 2,809.
    """
    _check_yen("invoice_total", invoice_total, positive=False)
    for _, amount in payments:
        _check_yen("payment", amount, positive=True)
    if (
        isinstance(rate_percent, bool)
        or not isinstance(rate_percent, int | Decimal)
        or not Decimal(rate_percent).is_finite()
        or rate_percent < 0
    ):
        raise InvalidAmount(
            f"The late-payment rate is a non-negative Decimal, not {rate_percent!r}.",
            rule="R-CHG-7",
        )
    last_grace_day = grace_end(due_on)
    counted = sorted((p for p in payments if p[0] <= as_of), key=lambda p: p[0])

    balance = invoice_total
    cursor = due_on + _ONE_DAY  # the first day that bears interest
    segments: list[LateSegment] = []
    paid_in_full_on: date | None = None
    for paid_on, amount in counted:
        if balance <= 0:
            break
        if paid_on > cursor:
            days = (paid_on - cursor).days
            segments.append(LateSegment(cursor, paid_on - _ONE_DAY, balance, days))
            cursor = paid_on
        balance -= amount
        if balance <= 0:
            paid_in_full_on = paid_on

    if balance <= 0:
        if paid_in_full_on is None or paid_in_full_on <= last_grace_day:
            return LateCharge(amount=0, days=0, waived=paid_in_full_on is not None, segments=())
    elif as_of <= last_grace_day:
        return LateCharge(amount=0, days=0, waived=False, segments=(), in_grace=True)
    elif as_of > cursor:
        segments.append(LateSegment(cursor, as_of - _ONE_DAY, balance, (as_of - cursor).days))

    weighted = sum(s.balance * s.days for s in segments)
    numerator, denominator = Decimal(rate_percent).as_integer_ratio()
    amount = weighted * numerator // (denominator * 100 * DAYS_IN_YEAR)
    return LateCharge(
        amount=amount,
        days=sum(s.days for s in segments),
        waived=False,
        segments=tuple(segments),
    )


def late_payment_line(
    charge: LateCharge, *, book: PriceBook | None = None, reference: str | None = None
) -> ChargeLine | None:
    """The line that bills ``charge`` on the next invoice (non-taxable by default, R-CHG-4).

    ``reference`` names the late invoice (e.g. its number) in the description.
    """
    if charge.amount == 0:
        return None
    kinds = book.taxable_kinds if book is not None else DEFAULT_TAXABLE_KINDS
    name = CHARGE_KIND_NAMES[ChargeKind.LATE_PAYMENT]
    description = (
        f"{name}（{reference}、{charge.days}日）" if reference else f"{name}（{charge.days}日）"
    )
    return ChargeLine(
        item=str(ChargeKind.LATE_PAYMENT),
        description=description,
        quantity=1,
        unit_price=charge.amount,
        amount=charge.amount,
        taxable=ChargeKind.LATE_PAYMENT in kinds,
        rule="R-CHG-7",
    )
