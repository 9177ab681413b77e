"""Monthly charges: R-CAT-2, R-CAT-3, R-CHG-1, R-CHG-2."""

from datetime import date
from decimal import Decimal

import pytest

from app.pricing import (
    INITIAL_PRICE_BOOK,
    ContractShape,
    InvalidLicenceQuantity,
    InvalidOption,
    InvalidPlan,
    InvalidTimeline,
    Month,
    OptionPeriod,
    PriceBook,
    PriceBooks,
    ServiceTimeline,
    billable_months,
    check_option_can_be_added,
    monthly_charge,
    monthly_lines,
    recurring_charge_for_month,
    recurring_lines_for_month,
    units_for,
)

BOOK = INITIAL_PRICE_BOOK


def _timeline(
    *changes: tuple[date, int],
    start: date = date(2026, 6, 15),
    end: date | None = None,
    options: tuple[OptionPeriod, ...] = (),
    plan: str = "foundation-essential",
) -> ServiceTimeline:
    return ServiceTimeline(plan, start, end, changes or ((start, 50),), options)


def _units(lines) -> dict[str, int]:
    return {line.item: line.quantity for line in lines}


@pytest.mark.parametrize(
    ("ids", "units"), [(1, 1), (10, 1), (11, 2), (25, 3), (1_000_000, 100_000)]
)
def test_per_10_id_items_bill_each_started_10_ids_r_cat_2(ids, units):
    assert units_for(ids) == units


@pytest.mark.parametrize("ids", [0, -1, 1_000_001, 2.5, True, "10"])
def test_a_licence_quantity_is_1_to_1_000_000_ids_r_cat_2(ids):
    with pytest.raises(InvalidLicenceQuantity) as caught:
        units_for(ids)
    assert (caught.value.code, caught.value.rule) == ("invalid_licence_quantity", "R-CAT-2")


def test_monthly_lines_are_basic_plus_the_plan_per_10_ids():
    lines = monthly_lines(BOOK, ContractShape("foundation-essential", 50))
    assert [(line.item, line.quantity, line.unit_price, line.amount) for line in lines] == [
        ("basic", 1, 50_000, 50_000),
        ("foundation-essential", 5, 8_600, 43_000),
    ]
    assert all(line.taxable for line in lines)
    assert lines[0].description == "基本料金（設定変更、テクニカルサポート）"
    assert lines[1].description == "Cisco Secure Connect Foundation Essential プラン"


def test_soc_bills_a_base_and_users_at_the_licence_quantity_r_cat_3():
    lines = monthly_lines(BOOK, ContractShape("complete-essential", 25, frozenset({"soc"})))
    assert _units(lines) == {"basic": 1, "complete-essential": 3, "soc-base": 1, "soc-users": 3}
    assert monthly_charge(BOOK, ContractShape("complete-essential", 25, frozenset({"soc"}))) == (
        50_000 + 3 * 13_600 + 100_000 + 3 * 1_000
    )


def test_reserved_ip_is_a_flat_monthly_option():
    shape = ContractShape("foundation-advantage", 1, frozenset({"reserved_ip"}))
    assert monthly_charge(BOOK, shape) == 50_000 + 11_000 + 80_000


def test_ad_integration_is_not_a_monthly_option_r_chg_3():
    with pytest.raises(InvalidOption, match="one-time"):
        ContractShape("foundation-essential", 10, frozenset({"ad_integration"}))


def test_unknown_plans_and_options_are_refused_r_cat_1():
    with pytest.raises(InvalidPlan):
        ContractShape("platinum", 10)
    with pytest.raises(InvalidOption):
        ContractShape("foundation-essential", 10, frozenset({"coffee"}))


def test_months_bill_from_the_service_start_month_to_the_termination_month_r_chg_1():
    timeline = _timeline(start=date(2026, 6, 30), end=date(2026, 9, 1))
    assert recurring_lines_for_month(BOOK, timeline, Month(2026, 5)) == ()
    for month in (Month(2026, 6), Month(2026, 7), Month(2026, 9)):
        assert recurring_charge_for_month(BOOK, timeline, month) == 93_000  # never prorated
    assert recurring_lines_for_month(BOOK, timeline, Month(2026, 10)) == ()
    assert recurring_charge_for_month(BOOK, timeline, Month(2026, 10)) == 0


def test_billable_months_run_to_the_termination_or_the_given_month_r_chg_1():
    ended = _timeline(start=date(2026, 11, 15), end=date(2027, 2, 1))
    assert [str(m) for m in billable_months(ended)] == ["2026-11", "2026-12", "2027-01", "2027-02"]
    assert len(billable_months(ended, up_to=Month(2026, 12))) == 2
    assert len(billable_months(ended, up_to=Month(2030, 1))) == 4
    running = _timeline(start=date(2026, 11, 15))
    assert len(billable_months(running, up_to=Month(2027, 10))) == 12
    with pytest.raises(InvalidTimeline):
        billable_months(running)


def test_an_increase_bills_its_whole_month_r_chg_2():
    timeline = _timeline((date(2026, 6, 15), 50), (date(2026, 8, 31), 51))
    assert (
        _units(recurring_lines_for_month(BOOK, timeline, Month(2026, 7)))["foundation-essential"]
        == 5
    )
    assert (
        _units(recurring_lines_for_month(BOOK, timeline, Month(2026, 8)))["foundation-essential"]
        == 6
    )


def test_a_decrease_still_bills_the_higher_quantity_in_its_month_r_chg_2():
    """Example H's pattern: 120 → 60 on 2026-12-10; December 12 units, January 6."""
    timeline = _timeline((date(2026, 6, 15), 120), (date(2026, 12, 10), 60))
    assert (
        _units(recurring_lines_for_month(BOOK, timeline, Month(2026, 12)))["foundation-essential"]
        == 12
    )
    assert (
        _units(recurring_lines_for_month(BOOK, timeline, Month(2027, 1)))["foundation-essential"]
        == 6
    )


def test_a_decrease_on_the_first_bills_the_removed_ids_for_that_month_r_chg_2():
    """Decision: a change's effective_on is the last day of the removed IDs (通則1)."""
    timeline = _timeline((date(2026, 6, 15), 120), (date(2026, 12, 1), 60))
    assert (
        _units(recurring_lines_for_month(BOOK, timeline, Month(2026, 11)))["foundation-essential"]
        == 12
    )
    assert (
        _units(recurring_lines_for_month(BOOK, timeline, Month(2026, 12)))["foundation-essential"]
        == 12
    )
    assert (
        _units(recurring_lines_for_month(BOOK, timeline, Month(2027, 1)))["foundation-essential"]
        == 6
    )


def test_the_highest_of_several_changes_in_a_month_bills_r_chg_2():
    timeline = _timeline((date(2026, 6, 15), 20), (date(2026, 7, 5), 90), (date(2026, 7, 20), 30))
    assert (
        _units(recurring_lines_for_month(BOOK, timeline, Month(2026, 7)))["foundation-essential"]
        == 9
    )
    assert (
        _units(recurring_lines_for_month(BOOK, timeline, Month(2026, 8)))["foundation-essential"]
        == 3
    )


def test_only_the_quantity_at_the_service_start_counts_among_earlier_changes_r_chg_2():
    timeline = _timeline((date(2026, 4, 1), 500), (date(2026, 6, 1), 50))
    assert (
        _units(recurring_lines_for_month(BOOK, timeline, Month(2026, 6)))["foundation-essential"]
        == 5
    )


def test_changes_after_the_termination_do_not_bill_r_chg_2():
    timeline = _timeline((date(2026, 6, 15), 50), (date(2026, 9, 20), 500), end=date(2026, 9, 10))
    assert (
        _units(recurring_lines_for_month(BOOK, timeline, Month(2026, 9)))["foundation-essential"]
        == 5
    )


def test_soc_users_follow_the_licence_quantity_every_month_r_cat_3():
    timeline = _timeline(
        (date(2026, 6, 15), 120),
        (date(2026, 12, 10), 60),
        options=(OptionPeriod("soc", date(2026, 6, 15)),),
    )
    december = _units(recurring_lines_for_month(BOOK, timeline, Month(2026, 12)))
    january = _units(recurring_lines_for_month(BOOK, timeline, Month(2027, 1)))
    assert december["soc-users"] == december["foundation-essential"] == 12
    assert january["soc-users"] == january["foundation-essential"] == 6


def test_an_option_bills_every_month_it_was_in_effect_on_one_day_r_chg_2():
    reserved = OptionPeriod("reserved_ip", date(2026, 7, 31), date(2026, 9, 1))
    timeline = _timeline(options=(reserved,))
    billed = {
        str(month): "reserved-ip" in _units(recurring_lines_for_month(BOOK, timeline, month))
        for month in billable_months(timeline, up_to=Month(2026, 10))
    }
    assert billed == {
        "2026-06": False,
        "2026-07": True,
        "2026-08": True,
        "2026-09": True,
        "2026-10": False,
    }


def test_an_option_outside_the_service_period_does_not_bill_r_chg_2():
    reserved = OptionPeriod("reserved_ip", date(2026, 6, 1), date(2026, 6, 14))
    timeline = _timeline(options=(reserved,))
    assert "reserved-ip" not in _units(recurring_lines_for_month(BOOK, timeline, Month(2026, 6)))


def test_a_month_is_priced_by_its_own_price_book_version_r_cat_4():
    raised = PriceBook(
        effective_from=date(2026, 8, 20),
        prices={**BOOK.prices, "basic": 60_000},
        tax_rate_percent=Decimal("10"),
        late_payment_rate_percent=Decimal("14.5"),
    )
    books = PriceBooks([BOOK, raised])
    timeline = _timeline()
    charges = {
        str(month): recurring_charge_for_month(books.for_month(month), timeline, month)
        for month in billable_months(timeline, up_to=Month(2026, 9))
    }
    assert charges == {"2026-06": 93_000, "2026-07": 93_000, "2026-08": 93_000, "2026-09": 103_000}


def test_the_shape_on_a_date_is_the_base_of_a_termination():
    timeline = _timeline(
        (date(2026, 6, 15), 120),
        (date(2026, 12, 10), 60),
        options=(OptionPeriod("reserved_ip", date(2026, 6, 15), date(2026, 12, 31)),),
    )
    assert timeline.shape_on(date(2026, 12, 9)) == ContractShape(
        "foundation-essential", 120, frozenset({"reserved_ip"})
    )
    assert timeline.shape_on(date(2026, 12, 10)).license_ids == 60
    assert timeline.shape_on(date(2026, 12, 30)).options == frozenset({"reserved_ip"})
    assert timeline.shape_on(date(2026, 12, 31)).options == frozenset()  # removed that day
    assert timeline.shape_on(date(2026, 1, 1)).license_ids == 120


class TestTimelineValidation:
    def test_needs_the_quantity_at_the_service_start(self):
        with pytest.raises(InvalidTimeline):
            _timeline((date(2026, 6, 16), 50))

    def test_needs_changes_in_date_order(self):
        with pytest.raises(InvalidTimeline):
            _timeline((date(2026, 6, 1), 50), (date(2026, 8, 1), 60), (date(2026, 7, 1), 70))

    def test_cannot_end_before_it_starts(self):
        with pytest.raises(InvalidTimeline):
            _timeline(end=date(2026, 6, 14))

    def test_checks_every_quantity(self):
        with pytest.raises(InvalidLicenceQuantity):
            _timeline((date(2026, 6, 1), 50), (date(2026, 8, 1), 0))

    def test_option_periods_cannot_end_before_they_start(self):
        with pytest.raises(InvalidTimeline):
            OptionPeriod("reserved_ip", date(2026, 8, 1), date(2026, 7, 31))

    def test_ad_integration_has_no_period(self):
        with pytest.raises(InvalidOption):
            OptionPeriod("ad_integration", date(2026, 8, 1))


def test_soc_cannot_be_added_to_an_accepted_contract_r_cat_3():
    with pytest.raises(InvalidOption) as caught:
        check_option_can_be_added("soc")
    assert (caught.value.code, caught.value.rule) == ("soc_only_on_application", "R-CAT-3")
    assert check_option_can_be_added("reserved_ip") == "reserved_ip"
    assert check_option_can_be_added("ad_integration") == "ad_integration"
