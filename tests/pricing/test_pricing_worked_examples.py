"""The worked examples of DOMAIN.md §7, exact to the yen."""

from datetime import date

import pytest

from app.pricing import (
    INITIAL_PRICE_BOOK,
    ContractShape,
    Month,
    NoticeTooLate,
    OptionPeriod,
    ServiceTimeline,
    cancellation_fee,
    check_notice,
    earliest_effective_on,
    early_termination_charge,
    first_term_end,
    late_payment_charge,
    monthly_charge,
    monthly_lines,
    notice_deadline,
    one_time_lines,
    partial_early_termination,
    recurring_lines_for_month,
    term_on,
    totals,
    warranty_end,
)

BOOK = INITIAL_PRICE_BOOK
TAX = BOOK.tax_rate_percent
B_SHAPE = ContractShape("complete-advantage", 120, frozenset({"soc", "reserved_ip"}))


def test_example_a_foundation_essential_50_ids_simple_onboarding():
    timeline = ServiceTimeline(
        "foundation-essential", date(2026, 6, 15), None, ((date(2026, 6, 15), 50),)
    )
    june_lines = recurring_lines_for_month(BOOK, timeline, Month(2026, 6))
    assert sum(line.amount for line in june_lines) == 93_000
    june = totals([*june_lines, *one_time_lines(BOOK, "simple", False)], TAX)
    assert (june.taxable_subtotal, june.tax, june.total) == (643_000, 64_300, 707_300)
    july = totals(recurring_lines_for_month(BOOK, timeline, Month(2026, 7)), TAX)
    assert (july.taxable_subtotal, july.tax, july.total) == (93_000, 9_300, 102_300)


def test_example_b_complete_advantage_120_ids_with_every_option():
    assert monthly_charge(BOOK, B_SHAPE) == 501_200
    first = totals([*monthly_lines(BOOK, B_SHAPE), *one_time_lines(BOOK, "standard", True)], TAX)
    assert (first.taxable_subtotal, first.tax, first.total) == (1_851_200, 185_120, 2_036_320)


def test_example_c_terms_renewals_and_warranty():
    onboarding, service_start = date(2026, 5, 20), date(2026, 6, 15)
    first = term_on(onboarding, service_start, service_start)
    assert (first.start_on, first.end_on) == (date(2026, 6, 15), date(2027, 5, 20))
    assert notice_deadline(first.end_on) == date(2027, 2, 20)
    renewed = [term_on(onboarding, service_start, date(y, 6, 1)).end_on for y in (2027, 2028)]
    assert renewed == [date(2028, 5, 20), date(2029, 5, 20)]

    leap_onboarding = date(2027, 2, 28)
    assert first_term_end(leap_onboarding) == date(2028, 2, 29)
    ends = [
        term_on(leap_onboarding, date(2027, 3, 31), date(y, 3, 15)).end_on
        for y in range(2027, 2032)
    ]
    assert ends == [
        date(2028, 2, 29),
        date(2029, 2, 28),
        date(2030, 2, 28),
        date(2031, 2, 28),
        date(2032, 2, 29),
    ]
    assert warranty_end(date(2026, 6, 15)) == date(2026, 9, 15)
    assert warranty_end(date(2026, 11, 30)) == date(2027, 2, 28)


def test_example_d_early_termination_of_b():
    term = term_on(date(2026, 5, 20), date(2026, 6, 15), date(2026, 12, 10))
    check_notice(date(2026, 9, 10), date(2026, 12, 10))
    timeline = ServiceTimeline(
        "complete-advantage",
        date(2026, 6, 15),
        date(2026, 12, 10),
        ((date(2026, 6, 15), 120),),
        (OptionPeriod("soc", date(2026, 6, 15)), OptionPeriod("reserved_ip", date(2026, 6, 15))),
    )
    december = recurring_lines_for_month(BOOK, timeline, Month(2026, 12))
    assert sum(line.amount for line in december) == 501_200
    assert recurring_lines_for_month(BOOK, timeline, Month(2027, 1)) == ()

    charge = early_termination_charge(
        monthly_charge(BOOK, timeline.shape_on(date(2026, 12, 10))), date(2026, 12, 10), term.end_on
    )
    assert (charge.months, charge.amount) == (5, 2_506_000)
    assert charge.line is not None
    final = totals([*december, charge.line], TAX)
    assert final.non_taxable_subtotal == 2_506_000
    assert final.tax == 50_120

    with pytest.raises(NoticeTooLate) as caught:
        check_notice(date(2026, 9, 11), date(2026, 12, 10))
    assert caught.value.facts["earliest_effective_on"] == date(2026, 12, 11)
    assert earliest_effective_on(date(2026, 9, 11)) == date(2026, 12, 11)


def test_example_e_cancellation_of_b():
    costs = [("ソフトウェア手配・設定作業", 200_000)]

    def fee(onboarding_started: bool, at_fault: bool = True):
        return cancellation_fee(
            BOOK, B_SHAPE, "standard", True, onboarding_started, costs, at_fault, 501_200
        )

    before = fee(onboarding_started=False)
    assert before.amount == 1_550_000
    assert totals(before.lines, TAX).tax == 155_000

    after = fee(onboarding_started=True)
    after_totals = totals(after.lines, TAX)
    assert (after.amount, after_totals.tax, after_totals.total) == (7_564_400, 756_440, 8_320_840)

    assert fee(onboarding_started=True, at_fault=False).amount == 0


def test_example_f_late_payment_of_a_june_invoice():
    due, rate, as_of = date(2026, 7, 31), BOOK.late_payment_rate_percent, date(2026, 12, 31)
    assert (
        late_payment_charge(707_300, due, [(date(2026, 8, 10), 707_300)], as_of, rate).amount == 0
    )
    on_11th = late_payment_charge(707_300, due, [(date(2026, 8, 11), 707_300)], as_of, rate)
    assert (on_11th.days, on_11th.amount) == (10, 2_809)
    split = [(date(2026, 8, 5), 300_000), (date(2026, 9, 15), 407_300)]
    assert late_payment_charge(707_300, due, split, as_of, rate).amount == 7_757


def test_example_g_25_ids_bill_3_units():
    shape = ContractShape("foundation-advantage", 25)
    plan_line = monthly_lines(BOOK, shape)[1]
    assert (plan_line.quantity, plan_line.amount) == (3, 33_000)
    assert monthly_charge(BOOK, shape) == 83_000


def test_example_h_decrease_from_120_to_60_ids_on_b():
    check_notice(date(2026, 9, 10), date(2026, 12, 10))
    timeline = ServiceTimeline(
        "complete-advantage",
        date(2026, 6, 15),
        None,
        ((date(2026, 6, 15), 120), (date(2026, 12, 10), 60)),
        (OptionPeriod("soc", date(2026, 6, 15)), OptionPeriod("reserved_ip", date(2026, 6, 15))),
    )
    december = {
        line.item: line.quantity
        for line in recurring_lines_for_month(BOOK, timeline, Month(2026, 12))
    }
    january = {
        line.item: line.quantity
        for line in recurring_lines_for_month(BOOK, timeline, Month(2027, 1))
    }
    assert december["complete-advantage"] == december["soc-users"] == 12
    assert january["complete-advantage"] == january["soc-users"] == 6

    before = timeline.shape_on(date(2026, 12, 9))
    after = timeline.shape_on(date(2026, 12, 10))
    charge = partial_early_termination(BOOK, before, after, date(2026, 12, 10), date(2027, 5, 20))
    assert charge.amount == 678_000
    assert charge.line is not None
    assert not charge.line.taxable
