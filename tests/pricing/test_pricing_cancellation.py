"""Cancellation before the service start (R-CHG-6)."""

from decimal import Decimal

import pytest

from app.pricing import (
    INITIAL_PRICE_BOOK,
    ContractShape,
    InvalidAmount,
    cancellation_fee,
    totals,
)
from app.pricing.price_book import DEFAULT_TAXABLE_KINDS, PriceBook

BOOK = INITIAL_PRICE_BOOK
B = ContractShape("complete-advantage", 120, frozenset({"soc", "reserved_ip"}))
COSTS = [("ソフトウェア手配", 150_000), ("設定作業", 50_000)]


def _fee(**overrides: object):
    arguments: dict[str, object] = {
        "book_for_one_time": BOOK,
        "shape": B,
        "onboarding_kind": "standard",
        "ad_integration": True,
        "onboarding_started": False,
        "actual_costs": COSTS,
        "contractor_at_fault": True,
        "monthly_charge": 501_200,
    }
    arguments.update(overrides)
    return cancellation_fee(**arguments)  # type: ignore[arg-type]


def test_before_onboarding_the_fee_is_one_time_items_plus_costs_r_chg_6():
    fee = _fee()
    assert fee.amount == 1_000_000 + 350_000 + 200_000
    assert {line.item for line in fee.lines} == {"cancellation"}
    assert all(line.taxable and line.rule == "R-CHG-6" for line in fee.lines)
    assert not fee.refund_paid_one_time


def test_after_onboarding_start_it_adds_twelve_monthly_charges_r_chg_6():
    fee = _fee(onboarding_started=True)
    assert fee.amount == 1_550_000 + 12 * 501_200
    assert fee.lines[-1].quantity == 12


def test_the_monthly_charge_defaults_to_the_shape_priced_by_the_book_r_chg_6():
    assert _fee(onboarding_started=True, monthly_charge=None).amount == 7_564_400


def test_no_fee_when_the_contractor_is_not_at_fault_and_one_time_items_are_refunded_r_chg_6():
    fee = _fee(onboarding_started=True, contractor_at_fault=False)
    assert (fee.lines, fee.amount, fee.refund_paid_one_time) == ((), 0, True)


def test_a_tax_ruling_can_make_the_fee_non_taxable_r_chg_4():
    book = PriceBook(
        effective_from=BOOK.effective_from,
        prices=BOOK.prices,
        tax_rate_percent=BOOK.tax_rate_percent,
        late_payment_rate_percent=BOOK.late_payment_rate_percent,
        taxable_kinds=DEFAULT_TAXABLE_KINDS - {"cancellation"},
    )
    fee = _fee(book_for_one_time=book)
    assert totals(fee.lines, Decimal("10")).tax == 0


def test_actual_costs_must_be_whole_non_negative_yen():
    with pytest.raises(InvalidAmount):
        _fee(actual_costs=[("設定作業", -1)])
