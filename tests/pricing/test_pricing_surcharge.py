"""Surcharge (R-CHG-8) and liability cap (R-CHG-10)."""

from decimal import Decimal

import pytest

from app.pricing import InvalidAmount, liability_cap, surcharge_lines, totals


def test_an_evaded_charge_is_billed_with_a_double_surcharge_both_taxable_r_chg_8():
    evaded, surcharge = surcharge_lines(93_000)
    assert (evaded.item, evaded.description, evaded.amount) == ("surcharge", "免れた額", 93_000)
    assert (surcharge.description, surcharge.amount) == ("割増金 (2倍)", 186_000)
    assert evaded.taxable
    assert surcharge.taxable
    assert totals([evaded, surcharge], Decimal("10")).total == 306_900


def test_the_evaded_amount_must_be_positive_yen_r_chg_8():
    with pytest.raises(InvalidAmount):
        surcharge_lines(0)


def test_liability_is_capped_at_one_month_of_the_monthly_charge_r_chg_10():
    assert liability_cap(501_200) == 501_200
    with pytest.raises(InvalidAmount):
        liability_cap(-1)
