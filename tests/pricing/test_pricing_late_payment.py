"""Late payment (R-CHG-7)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from app.pricing import InvalidAmount, LateCharge, late_payment_charge, late_payment_line

RATE = Decimal("14.5")
DUE = date(2026, 7, 31)
LATER = date(2027, 1, 1)


def _charge(
    payments: list[tuple[date, int]],
    as_of: date = LATER,
    total: int = 707_300,
    due: date = DUE,
) -> LateCharge:
    return late_payment_charge(total, due, payments, as_of, RATE)


def test_paid_on_the_10th_day_after_the_due_date_is_waived_r_chg_7():
    charge = _charge([(date(2026, 8, 10), 707_300)])
    assert (charge.amount, charge.waived) == (0, True)


def test_paid_on_the_11th_day_after_the_due_date_bears_10_days_r_chg_7():
    charge = _charge([(date(2026, 8, 11), 707_300)])
    assert (charge.amount, charge.days, charge.waived) == (2_809, 10, False)
    assert charge.rule == "R-CHG-7"


def test_a_partial_payment_within_10_days_does_not_waive_r_chg_7():
    charge = _charge([(date(2026, 8, 5), 300_000), (date(2026, 9, 15), 407_300)])
    assert charge.amount == 7_757
    assert [(s.balance, s.days) for s in charge.segments] == [(707_300, 4), (407_300, 41)]


def test_payments_by_the_due_date_reduce_the_balance_free_of_interest_r_chg_7():
    charge = _charge([(DUE, 607_300), (date(2026, 8, 11), 100_000)])
    assert [(s.balance, s.days) for s in charge.segments] == [(100_000, 10)]
    assert charge.amount == 100_000 * 10 * 145 // 365_000


def test_paid_on_the_due_date_owes_nothing_r_chg_7():
    assert _charge([(DUE, 707_300)]).amount == 0


def test_the_sum_is_floored_once_per_invoice_r_chg_7():
    charge = _charge([(date(2026, 8, 11), 100), (date(2026, 8, 12), 900)], total=1_000)
    per_segment = sum(s.balance * s.days * 145 // 365_000 for s in charge.segments)
    assert (per_segment, charge.amount) == (3, 4)


def test_a_leap_year_still_counts_365_days_r_chg_7():
    due = date(2028, 1, 31)
    charge = _charge(
        [(due + timedelta(days=367), 36_500)], as_of=date(2030, 1, 1), total=36_500, due=due
    )
    assert charge.days == 366
    assert charge.amount == 36_500 * 366 * 145 // 365_000 == 5_307  # not 366 days


def test_an_unpaid_invoice_still_in_grace_owes_nothing_yet_r_chg_7():
    charge = _charge([], as_of=date(2026, 8, 10))
    assert (charge.amount, charge.in_grace, charge.waived) == (0, True, False)


def test_an_unpaid_balance_accrues_to_the_day_before_as_of_r_chg_7():
    assert _charge([], as_of=date(2026, 8, 11)) == _charge([(date(2026, 8, 11), 707_300)])


def test_payments_after_as_of_do_not_count_r_chg_7():
    unpaid = _charge([(date(2026, 9, 1), 707_300)], as_of=date(2026, 8, 20))
    assert unpaid.days == 19
    assert unpaid.segments[-1].to_on == date(2026, 8, 19)


def test_overpayment_stops_interest_r_chg_7():
    charge = _charge([(date(2026, 8, 20), 800_000), (date(2026, 9, 20), 1)])
    assert charge.days == 19


def test_the_charge_is_billed_as_a_non_taxable_line_r_chg_7():
    line = late_payment_line(_charge([(date(2026, 8, 11), 707_300)]), reference="INV-2026-000001")
    assert line is not None
    assert (line.item, line.amount, line.taxable) == ("late-payment", 2_809, False)
    assert "INV-2026-000001" in line.description
    assert late_payment_line(_charge([(date(2026, 8, 10), 707_300)])) is None


@pytest.mark.parametrize("payment", [0, -5, 1.5])
def test_payments_are_whole_positive_yen(payment):
    with pytest.raises(InvalidAmount):
        _charge([(date(2026, 8, 11), payment)])


def test_the_rate_is_never_a_float():
    with pytest.raises(InvalidAmount):
        late_payment_charge(1_000, DUE, [], LATER, 14.5)  # type: ignore[arg-type]


def test_the_rate_cannot_be_negative():
    with pytest.raises(InvalidAmount):
        late_payment_charge(1_000, DUE, [], LATER, Decimal("-1"))
