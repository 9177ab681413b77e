"""Issue 14 §3: the licence IDs an invoice states are those its month bills (R-CAT-2)."""

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from app.pricing import (
    INITIAL_PRICE_BOOK,
    Month,
    ServiceTimeline,
    recurring_lines_for_month,
    units_for,
)

START = date(2028, 1, 20)


def timeline(*changes: tuple[date, int], end: date | None = None) -> ServiceTimeline:
    return ServiceTimeline("foundation-essential", START, end, changes or ((START, 50),))


def test_r_cat_2_a_month_states_its_highest_quantity() -> None:
    t = timeline((START, 50), (date(2028, 2, 10), 80), (date(2028, 2, 20), 30))
    assert t.license_ids_in(Month(2028, 1)) == 50
    assert t.license_ids_in(Month(2028, 2)) == 80
    assert t.license_ids_in(Month(2028, 3)) == 30


def test_r_cat_2_a_decrease_bills_its_effective_day_with_the_old_quantity() -> None:
    # 29 February 2028 is the last service day of the 20 removed IDs.
    t = timeline((START, 50), (date(2028, 2, 29), 30))
    assert t.license_ids_in(Month(2028, 2)) == 50
    # A decrease effective on the 1st: that day still bills the removed IDs.
    t = timeline((START, 50), (date(2028, 3, 1), 30))
    assert t.license_ids_in(Month(2028, 3)) == 50
    assert t.license_ids_in(Month(2028, 4)) == 30


def test_r_cat_2_no_quantity_outside_the_billing_months() -> None:
    t = timeline(end=date(2028, 3, 31))
    assert t.license_ids_in(Month(2027, 12)) is None
    assert t.license_ids_in(Month(2028, 4)) is None
    assert t.license_ids_in(Month(2028, 3)) == 50


_DAYS = st.integers(min_value=1, max_value=500)


@given(
    st.lists(st.tuples(_DAYS, st.integers(min_value=1, max_value=5000)), max_size=6),
    st.integers(min_value=0, max_value=20),
)
def test_r_cat_2_the_stated_quantity_is_the_billed_one(
    steps: list[tuple[int, int]], month_offset: int
) -> None:
    changes: dict[date, int] = {START: 50}
    for days, quantity in steps:
        changes[date.fromordinal(START.toordinal() + days)] = quantity
    t = timeline(*sorted(changes.items()))
    month = Month(2028, 1)
    for _ in range(month_offset):
        month = month.next()
    ids = t.license_ids_in(month)
    (plan_line,) = [
        line
        for line in recurring_lines_for_month(INITIAL_PRICE_BOOK, t, month)
        if line.item == t.plan
    ]
    assert ids is not None
    assert plan_line.quantity == units_for(ids)
