"""Early termination (R-CHG-5, R-LC-7) and the termination reasons (R-TERM-4)."""

from datetime import date

import pytest

from app.pricing import (
    INITIAL_PRICE_BOOK,
    TERMINATION_RULES,
    ContractShape,
    EffectiveAfterTermEnd,
    InvalidAmount,
    Party,
    TerminationReason,
    early_termination_charge,
    partial_early_termination,
    termination_months,
)
from app.pricing.price_book import DEFAULT_TAXABLE_KINDS, PriceBook

BOOK = INITIAL_PRICE_BOOK
B_OPTIONS = frozenset({"soc", "reserved_ip"})


@pytest.mark.parametrize(
    ("effective_on", "term_end_on", "months"),
    [
        (date(2026, 12, 10), date(2027, 5, 20), 5),
        (date(2027, 5, 1), date(2027, 5, 20), 0),
        (date(2027, 5, 20), date(2027, 5, 20), 0),
        (date(2027, 4, 30), date(2027, 5, 20), 1),
        (date(2026, 6, 15), date(2027, 5, 20), 11),
    ],
)
def test_months_after_the_termination_month_to_the_term_end_month_r_chg_5(
    effective_on, term_end_on, months
):
    assert termination_months(effective_on, term_end_on) == months


def test_a_termination_after_the_term_end_is_not_early_r_chg_5():
    with pytest.raises(EffectiveAfterTermEnd):
        termination_months(date(2027, 5, 21), date(2027, 5, 20))


def test_early_termination_is_one_non_taxable_sum_r_chg_5():
    result = early_termination_charge(501_200, date(2026, 12, 10), date(2027, 5, 20))
    assert (result.months, result.amount) == (5, 2_506_000)
    assert result.line is not None
    assert result.line.item == "early-termination"
    assert (result.line.quantity, result.line.unit_price) == (5, 501_200)
    assert not result.line.taxable
    assert result.line.rule == "R-CHG-5"


def test_a_termination_in_the_term_end_month_has_no_charge_r_chg_5():
    result = early_termination_charge(501_200, date(2027, 5, 1), date(2027, 5, 20))
    assert (result.months, result.amount, result.line) == (0, 0, None)


def test_the_book_may_rule_early_termination_taxable_r_chg_4():
    book = PriceBook(
        effective_from=BOOK.effective_from,
        prices=BOOK.prices,
        tax_rate_percent=BOOK.tax_rate_percent,
        late_payment_rate_percent=BOOK.late_payment_rate_percent,
        taxable_kinds=DEFAULT_TAXABLE_KINDS | {"early-termination"},
    )
    result = early_termination_charge(1, date(2026, 12, 10), date(2027, 5, 20), book=book)
    assert result.line is not None
    assert result.line.taxable


def test_the_monthly_charge_must_be_whole_non_negative_yen():
    with pytest.raises(InvalidAmount):
        early_termination_charge(-1, date(2026, 12, 10), date(2027, 5, 20))


def test_decrease_is_a_partial_termination_r_lc_7():
    before = ContractShape("complete-advantage", 120, B_OPTIONS)
    after = ContractShape("complete-advantage", 60, B_OPTIONS)
    result = partial_early_termination(BOOK, before, after, date(2026, 12, 10), date(2027, 5, 20))
    assert result.amount == 5 * 6 * (21_600 + 1_000) == 678_000
    assert result.line is not None
    assert not result.line.taxable


def test_removing_an_option_is_a_partial_termination_r_lc_7():
    before = ContractShape("complete-advantage", 120, B_OPTIONS)
    after = ContractShape("complete-advantage", 120, frozenset({"soc"}))
    result = partial_early_termination(BOOK, before, after, date(2026, 12, 10), date(2027, 5, 20))
    assert result.amount == 5 * 80_000


def test_a_change_that_lowers_nothing_has_no_partial_charge():
    shape = ContractShape("complete-advantage", 120, B_OPTIONS)
    bigger = ContractShape("complete-advantage", 121, B_OPTIONS)
    result = partial_early_termination(BOOK, shape, bigger, date(2026, 12, 10), date(2027, 5, 20))
    assert (result.amount, result.line) == (0, None)


def test_a_decrease_within_the_same_10_ids_removes_no_unit():
    before = ContractShape("complete-advantage", 120, B_OPTIONS)
    after = ContractShape("complete-advantage", 111, B_OPTIONS)
    result = partial_early_termination(BOOK, before, after, date(2026, 12, 10), date(2027, 5, 20))
    assert result.amount == 0


@pytest.mark.parametrize(
    ("reason", "who", "notice", "charge"),
    [
        ("contractor_request", "contractor", True, True),
        ("non_renewal", "contractor", True, False),
        ("plan_change", "contractor", True, True),
        ("payment_default", "carrier", False, True),
        ("breach", "carrier", False, True),
        ("onboarding_deadline_exceeded", "carrier", False, False),
        ("nonconformity_unresolved", "contractor", False, False),
        ("service_discontinued", "carrier", False, False),
        ("force_majeure", "carrier", False, False),
    ],
)
def test_termination_reasons_say_who_needs_notice_and_what_is_charged_r_term_4(
    reason, who, notice, charge
):
    rule = TerminationReason(reason).rule
    assert rule.who == Party(who)
    assert rule.needs_notice is notice
    assert rule.early_termination_charge is charge


def test_onboarding_deadline_exceeded_bills_the_cancellation_fee_instead_r_term_4():
    assert TerminationReason.ONBOARDING_DEADLINE_EXCEEDED.rule.cancellation_fee_instead
    assert TerminationReason.NONCONFORMITY_UNRESOLVED.rule.costs_incurred_billed
    assert set(TERMINATION_RULES) == set(TerminationReason)
