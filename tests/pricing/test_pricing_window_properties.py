"""issue 9 §4: the pricing module's date arithmetic never raises on an input the API
accepts. Every business date of a request lies in the business window (at most the outer
window 2000-01-01 … 2099-12-31, app/core/validation.py), every amount is whole yen up to
10^12; over all of it, the calendar, term, notice, early-termination and late-payment
rules answer, or refuse with a PricingError (a 422), never with anything else.
9999-12-31 used to be a 500 (`year 10000 is out of range`).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.validation import MAX_YEN, OUTER_WINDOW
from app.pricing import (
    INITIAL_PRICE_BOOK,
    ContractShape,
    Month,
    ServiceTimeline,
    add_months,
    billable_months,
    check_notice,
    earliest_effective_on,
    early_termination_charge,
    first_term_end,
    grace_end,
    late_payment_charge,
    month_end,
    months_between_inclusive,
    next_term_end,
    notice_deadline,
    onboarding_deadline,
    partial_early_termination,
    period_end,
    recurring_charge_for_month,
    term_on,
    termination_months,
    warranty_end,
)
from app.pricing.errors import PricingError

PROPERTY = settings(max_examples=300, deadline=None, database=None)
ONE_DAY = timedelta(days=1)
in_window = st.dates(min_value=OUTER_WINDOW.first, max_value=OUTER_WINDOW.last)
yen = st.integers(min_value=1, max_value=MAX_YEN)
PLANS = ["foundation-essential", "foundation-advantage", "complete-essential", "complete-advantage"]


def test_issue_9_s4_the_window_ends_are_examples() -> None:
    """The extremes the API accepts, worked through every rule once."""
    for day in (OUTER_WINDOW.first, OUTER_WINDOW.last):
        assert first_term_end(day) > day
        assert next_term_end(day) > day
        assert notice_deadline(day) < day < earliest_effective_on(day)
        assert warranty_end(day) > day
        assert onboarding_deadline(day) > day
        assert grace_end(day) > day
        assert str(Month.of(day) + 1) > str(Month.of(day))


@PROPERTY
@given(day=in_window, months=st.integers(min_value=-120, max_value=120))
def test_issue_9_s4_add_months_and_period_end_answer_over_the_window(
    day: date, months: int
) -> None:
    shifted = add_months(day, months)
    assert Month.of(shifted) - Month.of(day) == months
    if months >= 1:
        assert period_end(day, months) >= day


@PROPERTY
@given(day=in_window)
def test_issue_9_s4_month_helpers_answer_over_the_window(day: date) -> None:
    month = Month.of(day)
    assert Month.parse(str(month)) == month
    assert (month + 1).first_day == month_end(day) + ONE_DAY
    assert (month - 1).last_day == month.first_day - ONE_DAY
    assert len(list(months_between_inclusive(month, month + 12))) == 13


@PROPERTY
@given(
    started=in_window,
    service_offset=st.integers(min_value=0, max_value=366),
    on=in_window,
)
def test_issue_9_s4_terms_and_renewals_answer_over_the_window(
    started: date, service_offset: int, on: date
) -> None:
    """R-TERM-1/2: any onboarding start, service start in the first term, any date."""
    end = first_term_end(started)
    service_start = min(started + timedelta(days=service_offset), end)
    term = term_on(started, service_start, on)
    assert term.start_on <= term.end_on
    assert on <= term.end_on
    assert next_term_end(term.end_on) > term.end_on
    assert warranty_end(service_start) > service_start


@PROPERTY
@given(notice_on=in_window, effective_on=in_window)
def test_issue_9_s4_notice_rules_answer_over_the_window(
    notice_on: date, effective_on: date
) -> None:
    """R-TERM-3: a deadline and an earliest date for any pair; only a late notice refused."""
    deadline = notice_deadline(effective_on)
    earliest = earliest_effective_on(notice_on)
    assert notice_deadline(earliest) >= notice_on
    if notice_on > deadline:
        with pytest.raises(PricingError, match="notice"):
            check_notice(notice_on, effective_on)
    else:
        check_notice(notice_on, effective_on)
    assert onboarding_deadline(effective_on) > effective_on


@PROPERTY
@given(
    started=in_window,
    effective_on=in_window,
    monthly=st.integers(min_value=0, max_value=MAX_YEN),
    license_ids=st.integers(min_value=1, max_value=1_000_000),
    fewer=st.integers(min_value=1, max_value=1_000_000),
    plan=st.sampled_from(PLANS),
)
def test_issue_9_s4_early_termination_answers_over_the_window(
    started: date, effective_on: date, monthly: int, license_ids: int, fewer: int, plan: str
) -> None:
    """R-CHG-5 and R-LC-7: the remaining months of the term containing any date."""
    service_start = first_term_end(started)  # the latest service start the term allows
    effective_on = max(effective_on, service_start)  # earlier: before_service_start (422)
    term = term_on(started, service_start, effective_on)
    months = termination_months(effective_on, term.end_on)
    assert 0 <= months <= 12
    charge = early_termination_charge(monthly, effective_on, term.end_on)
    assert charge.amount == months * monthly
    before = ContractShape(plan, license_ids, frozenset({"soc"}))
    after = ContractShape(plan, min(fewer, license_ids), frozenset())
    partial = partial_early_termination(
        INITIAL_PRICE_BOOK, before, after, effective_on, term.end_on
    )
    assert partial.amount >= 0


@PROPERTY
@given(
    total=st.integers(min_value=0, max_value=100 * MAX_YEN),
    due_on=in_window,
    payments=st.lists(st.tuples(in_window, yen), max_size=5),
    as_of=in_window,
    rate=st.decimals(min_value=0, max_value=100, places=4, allow_nan=False),
)
def test_issue_9_s4_late_payment_answers_over_the_window(
    total: int, due_on: date, payments: list[tuple[date, int]], as_of: date, rate: Decimal
) -> None:
    """R-CHG-7: any invoice, due date, payments and as-of date of the window."""
    late = late_payment_charge(total, due_on, payments, as_of, rate)
    assert late.amount >= 0
    assert late.days == sum(s.days for s in late.segments)
    assert grace_end(due_on) > due_on


@PROPERTY
@given(
    start=in_window,
    end=st.one_of(st.none(), in_window),
    change_on=in_window,
    month_day=in_window,
    plan=st.sampled_from(PLANS),
)
def test_issue_9_s4_monthly_billing_answers_over_the_window(
    start: date, end: date | None, change_on: date, month_day: date, plan: str
) -> None:
    """R-CHG-1/2: a timeline anywhere in the window bills any month of it."""
    if end is not None and end < start:
        start, end = end, start
    changes: tuple[tuple[date, int], ...] = ((start, 50),)
    if change_on > start:
        changes += ((change_on, 120),)
    timeline = ServiceTimeline(plan, start, end, changes)
    amount = recurring_charge_for_month(INITIAL_PRICE_BOOK, timeline, Month.of(month_day))
    assert amount >= 0
    months = billable_months(timeline, up_to=Month.of(OUTER_WINDOW.last))
    assert months[0] == Month.of(start)
