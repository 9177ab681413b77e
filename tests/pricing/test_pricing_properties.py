"""Properties of the pricing rules, checked against brute force with hypothesis."""

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from app.pricing import (
    INITIAL_PRICE_BOOK,
    ContractShape,
    Month,
    OptionPeriod,
    ServiceTimeline,
    add_months,
    billable_months,
    earliest_effective_on,
    early_termination_charge,
    first_term_end,
    late_payment_charge,
    monthly_charge,
    next_term_end,
    partial_early_termination,
    period_end,
    recurring_charge_for_month,
    tax_on,
    term_on,
    units_for,
)

# No example database: the suite must not write outside its own folders.
PROPERTY = settings(max_examples=150, deadline=None, database=None)
ONE_DAY = timedelta(days=1)
BOOK = INITIAL_PRICE_BOOK
PLANS = ["foundation-essential", "foundation-advantage", "complete-essential", "complete-advantage"]
dates = st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31))


def _month_index(d: date) -> int:
    return d.year * 12 + d.month - 1


def _days_of_month_by_walking(any_day: date) -> list[date]:
    """Every day of ``any_day``'s month, found by stepping one day at a time."""
    first = any_day
    while (first - ONE_DAY).month == any_day.month:
        first -= ONE_DAY
    days, day = [], first
    while day.month == any_day.month:
        days.append(day)
        day += ONE_DAY
    return days


def _walk_to_month(start: date, months: int) -> date:
    """A day of the month ``months`` after ``start``'s, reached day by day."""
    target, day = _month_index(start) + months, start
    step = ONE_DAY if months >= 0 else -ONE_DAY
    while _month_index(day) != target:
        day += step
    return day


def brute_add_months(d: date, n: int) -> date:
    days = _days_of_month_by_walking(_walk_to_month(d, n))
    same = [day for day in days if day.day == d.day]
    return same[0] if same else days[-1]


def brute_period_end(first_day: date, months: int) -> date:
    days = _days_of_month_by_walking(_walk_to_month(first_day, months))
    corresponding = [day for day in days if day.day == first_day.day]
    return corresponding[0] - ONE_DAY if corresponding else days[-1]


@PROPERTY
@given(dates, st.integers(min_value=-36, max_value=36))
def test_add_months_matches_day_by_day_counting(d, n):
    assert add_months(d, n) == brute_add_months(d, n)


@PROPERTY
@given(dates, st.integers(min_value=1, max_value=36))
def test_period_end_matches_day_by_day_counting(first_day, months):
    assert period_end(first_day, months) == brute_period_end(first_day, months)


@PROPERTY
@given(dates)
def test_earliest_effective_on_is_the_first_date_the_notice_allows_r_term_3(notice_on):
    brute = notice_on
    while add_months(brute, -3) < notice_on:
        brute += ONE_DAY
    assert earliest_effective_on(notice_on) == brute


@PROPERTY
@given(dates, st.integers(min_value=0, max_value=300), st.integers(min_value=0, max_value=20_000))
def test_terms_are_contiguous_years_containing_the_date_r_term_2(onboarding, delay, later):
    end = first_term_end(onboarding)
    start = min(onboarding + timedelta(days=delay), end)
    on_date = start + timedelta(days=later)
    term = term_on(onboarding, start, on_date)
    assert term.contains(on_date)
    if term.renewals:
        previous = term_on(onboarding, start, term.start_on - ONE_DAY)
        assert previous.renewals == term.renewals - 1
        assert term.start_on == previous.end_on + ONE_DAY
        assert term.end_on == next_term_end(previous.end_on)
        assert 365 <= (term.end_on - term.start_on).days + 1 <= 366


@PROPERTY
@given(st.integers(min_value=1, max_value=1_000_000))
def test_units_are_the_ceiling_of_ids_over_10_r_cat_2(ids):
    units = units_for(ids)
    assert (units - 1) * 10 < ids <= units * 10


@PROPERTY
@given(dates, st.integers(min_value=-500, max_value=500))
def test_month_arithmetic_agrees_with_add_months(d, n):
    month = Month.of(d)
    assert (month + n) - month == n
    assert Month.of(add_months(d, n)) == month + n
    assert Month.parse(str(month)) == month


@PROPERTY
@given(
    st.integers(min_value=-(10**13), max_value=10**13),
    st.sampled_from([Decimal("10"), Decimal("8"), Decimal("14.5"), Decimal("0"), Decimal("100")]),
)
def test_tax_is_the_floor_of_the_rate_never_more_never_a_yen_short_r_chg_4(subtotal, rate):
    tax = tax_on(subtotal, rate)
    exact = Fraction(abs(subtotal)) * Fraction(rate) / 100
    assert abs(tax) <= exact < abs(tax) + 1
    assert tax == -tax_on(-subtotal, rate)
    if rate == 10 and subtotal >= 0:
        assert 10 * tax <= subtotal < 10 * (tax + 1)


@st.composite
def terminations(draw):
    """A running contract with a licence history and options, terminated inside a term."""
    onboarding = draw(st.dates(min_value=date(2026, 1, 1), max_value=date(2040, 12, 31)))
    first_end = first_term_end(onboarding)
    start = onboarding + timedelta(days=draw(st.integers(1, (first_end - onboarding).days)))
    effective_on = start + timedelta(days=draw(st.integers(0, 3_000)))
    term = term_on(onboarding, start, effective_on)
    span = (effective_on - start).days
    changes = [(start, draw(st.integers(1, 3_000)))]
    for offset in sorted(set(draw(st.lists(st.integers(1, max(span, 1)), max_size=4)))):
        if offset <= span:
            changes.append((start + timedelta(days=offset), draw(st.integers(1, 3_000))))
    options = []
    if draw(st.booleans()):
        options.append(OptionPeriod("soc", start))
    if draw(st.booleans()):
        added = start + timedelta(days=draw(st.integers(0, span)))
        removed = draw(st.one_of(st.none(), st.integers(0, (effective_on - added).days)))
        ends_on = None if removed is None else added + timedelta(days=removed)
        options.append(OptionPeriod("reserved_ip", added, ends_on))
    return draw(st.sampled_from(PLANS)), start, effective_on, term, tuple(changes), tuple(options)


def _billed(plan, start, end, changes, options) -> int:
    timeline = ServiceTimeline(plan, start, end, changes, options)
    return sum(
        recurring_charge_for_month(BOOK, timeline, month) for month in billable_months(timeline)
    )


@PROPERTY
@given(terminations())
def test_terminating_early_costs_what_running_to_the_term_end_would_r_chg_5(case):
    plan, start, effective_on, term, changes, options = case
    ended = ServiceTimeline(plan, start, effective_on, changes, options)
    charge = early_termination_charge(
        monthly_charge(BOOK, ended.shape_on(effective_on)), effective_on, term.end_on
    )
    assert _billed(plan, start, effective_on, changes, options) + charge.amount == _billed(
        plan, start, term.end_on, changes, options
    )


@PROPERTY
@given(terminations(), st.integers(1, 3_000))
def test_a_decrease_costs_what_keeping_the_ids_to_the_term_end_would_r_lc_7(case, decreased_to):
    plan, start, effective_on, term, changes, options = case
    if changes[-1][0] >= effective_on or effective_on == start:
        return  # the decrease must be the last change, after the start
    kept = ServiceTimeline(plan, start, term.end_on, changes, options)
    before = kept.shape_on(effective_on)
    if decreased_to >= before.license_ids:
        return
    after = ContractShape(plan, decreased_to, before.options)
    charge = partial_early_termination(BOOK, before, after, effective_on, term.end_on)
    decreased = (*changes, (effective_on, decreased_to))
    assert _billed(plan, start, term.end_on, decreased, options) + charge.amount == _billed(
        plan, start, term.end_on, changes, options
    )


payments_strategy = st.lists(
    st.tuples(st.integers(-5, 400), st.integers(1, 400_000)), min_size=1, max_size=5
)


@PROPERTY
@given(
    st.integers(1, 2_000_000),
    dates,
    payments_strategy,
    st.data(),
)
def test_a_later_payment_never_lowers_the_late_charge_r_chg_7(total, due, raw, data):
    as_of = due + timedelta(days=2_000)
    payments = [(due + timedelta(days=offset), amount) for offset, amount in raw]
    index = data.draw(st.integers(0, len(payments) - 1))
    delay = data.draw(st.integers(1, 200))
    later = list(payments)
    later[index] = (payments[index][0] + timedelta(days=delay), payments[index][1])
    rate = BOOK.late_payment_rate_percent
    original = late_payment_charge(total, due, payments, as_of, rate)
    delayed = late_payment_charge(total, due, later, as_of, rate)
    assert delayed.amount >= original.amount
    assert original.amount >= 0
