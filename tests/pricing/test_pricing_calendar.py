"""Calendar rules: add_months, period_end (Civil Code art. 143), terms, notice, warranty."""

from datetime import date

import pytest

from app.pricing import (
    Month,
    NoticeTooLate,
    ServiceStartAfterFirstTermEnd,
    Term,
    add_months,
    check_notice,
    earliest_effective_on,
    first_term_end,
    month_end,
    month_start,
    months_between_inclusive,
    notice_deadline,
    onboarding_deadline,
    period_end,
    term_on,
    warranty_end,
)
from app.pricing.errors import InvalidMonth


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (date(2027, 5, 31), -3, date(2027, 2, 28)),
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),
        (date(2026, 1, 15), -1, date(2025, 12, 15)),
        (date(2028, 2, 29), 12, date(2029, 2, 28)),
        (date(2026, 5, 20), 0, date(2026, 5, 20)),
    ],
)
def test_add_months_keeps_the_day_or_clamps_to_the_month_end(start, n, expected):
    assert add_months(start, n) == expected


@pytest.mark.parametrize(
    ("first_day", "months", "expected"),
    [
        (date(2027, 3, 1), 12, date(2028, 2, 29)),
        (date(2028, 2, 29), 12, date(2029, 2, 28)),
        (date(2026, 5, 21), 12, date(2027, 5, 20)),
        (date(2026, 11, 30), 3, date(2027, 2, 28)),
        (date(2026, 12, 1), 3, date(2027, 2, 28)),
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2026, 1, 1), 1, date(2026, 1, 31)),
    ],
)
def test_period_end_follows_civil_code_article_143(first_day, months, expected):
    assert period_end(first_day, months) == expected


def test_period_end_needs_at_least_one_month():
    with pytest.raises(ValueError, match="at least one month"):
        period_end(date(2026, 1, 1), 0)


def test_month_start_and_end():
    assert month_start(date(2028, 2, 17)) == date(2028, 2, 1)
    assert month_end(date(2028, 2, 17)) == date(2028, 2, 29)
    assert month_end(date(2027, 2, 1)) == date(2027, 2, 28)


class TestMonth:
    def test_parses_and_prints_yyyy_mm(self):
        month = Month.parse("2026-06")
        assert (month.year, month.month) == (2026, 6)
        assert str(month) == "2026-06"

    @pytest.mark.parametrize("text", ["2026-6", "2026-13", "26-06", "2026/06", "2026-00", ""])
    def test_refuses_what_is_not_a_month(self, text):
        with pytest.raises(InvalidMonth):
            Month.parse(text)

    def test_knows_its_first_and_last_day(self):
        assert Month(2028, 2).first_day == date(2028, 2, 1)
        assert Month(2028, 2).last_day == date(2028, 2, 29)
        assert Month.of(date(2026, 12, 31)) == Month(2026, 12)

    def test_adds_and_subtracts_across_years(self):
        assert Month(2026, 12) + 1 == Month(2027, 1)
        assert 1 + Month(2026, 12) == Month(2027, 1)
        assert Month(2027, 1) - 1 == Month(2026, 12)
        assert Month(2027, 5) - Month(2026, 12) == 5
        assert Month(2026, 12).next() == Month(2027, 1)
        assert Month(2027, 1).previous() == Month(2026, 12)

    def test_is_ordered_and_hashable(self):
        assert Month(2026, 12) < Month(2027, 1) <= Month(2027, 1)
        assert Month(2027, 2) > Month(2027, 1) >= Month(2027, 1)
        assert sorted([Month(2027, 1), Month(2026, 3)]) == [Month(2026, 3), Month(2027, 1)]
        assert len({Month(2026, 1), Month(2026, 1)}) == 1

    def test_iterates_months_inclusively(self):
        months = list(months_between_inclusive(Month(2026, 11), Month(2027, 2)))
        assert [str(m) for m in months] == ["2026-11", "2026-12", "2027-01", "2027-02"]
        assert list(months_between_inclusive(Month(2027, 2), Month(2027, 1))) == []

    def test_contains_its_days_only(self):
        assert Month(2026, 6).contains(date(2026, 6, 30))
        assert not Month(2026, 6).contains(date(2026, 7, 1))


def test_first_term_runs_one_year_from_the_onboarding_start_r_term_1():
    """R-TERM-1: counted from the onboarding start (Art. 10.2), not the service start."""
    assert first_term_end(date(2026, 5, 20)) == date(2027, 5, 20)
    assert first_term_end(date(2027, 2, 28)) == date(2028, 2, 29)


def test_terms_renew_year_after_year_r_term_2():
    onboarding, start = date(2027, 2, 28), date(2027, 4, 1)
    ends = [term_on(onboarding, start, date(y, 6, 1)).end_on for y in range(2027, 2033)]
    assert ends == [
        date(2028, 2, 29),
        date(2029, 2, 28),
        date(2030, 2, 28),
        date(2031, 2, 28),
        date(2032, 2, 29),
        date(2033, 2, 28),
    ]


def test_term_on_gives_the_term_with_its_start_and_renewals():
    onboarding, start = date(2026, 5, 20), date(2026, 6, 15)
    assert term_on(onboarding, start, date(2026, 6, 15)) == Term(start, date(2027, 5, 20), 0)
    assert term_on(onboarding, start, date(2027, 5, 20)) == Term(start, date(2027, 5, 20), 0)
    assert term_on(onboarding, start, date(2027, 5, 21)) == Term(
        date(2027, 5, 21), date(2028, 5, 20), 1
    )


def test_a_date_before_the_service_start_gets_the_first_term():
    term = term_on(date(2026, 5, 20), date(2026, 6, 15), date(2026, 1, 1))
    assert term == Term(date(2026, 6, 15), date(2027, 5, 20), 0)


def test_term_on_is_fast_for_dates_decades_away():
    term = term_on(date(2026, 5, 20), date(2026, 6, 15), date(2125, 1, 1))
    assert term.renewals == 98
    assert term.contains(date(2125, 1, 1))


def test_service_cannot_start_after_the_first_term_r_lc_5():
    with pytest.raises(ServiceStartAfterFirstTermEnd) as caught:
        term_on(date(2026, 5, 20), date(2027, 5, 21), date(2027, 6, 1))
    assert caught.value.code == "service_start_after_first_term_end"
    assert caught.value.facts["first_term_end"] == date(2027, 5, 20)


def test_notice_deadline_is_three_months_before_r_term_3():
    assert notice_deadline(date(2027, 5, 20)) == date(2027, 2, 20)
    assert notice_deadline(date(2027, 5, 31)) == date(2027, 2, 28)


def test_notice_on_the_deadline_day_is_accepted_r_term_3():
    check_notice(date(2026, 9, 10), date(2026, 12, 10))


def test_notice_one_day_after_the_deadline_is_refused_with_the_earliest_date_r_term_3():
    with pytest.raises(NoticeTooLate) as caught:
        check_notice(date(2026, 9, 11), date(2026, 12, 10))
    error = caught.value
    assert (error.code, error.rule) == ("notice_too_late", "R-TERM-3")
    assert error.facts["earliest_effective_on"] == date(2026, 12, 11)
    assert error.facts["notice_deadline"] == date(2026, 9, 10)


@pytest.mark.parametrize(
    ("notice_on", "earliest"),
    [
        (date(2026, 9, 11), date(2026, 12, 11)),
        (date(2026, 11, 30), date(2027, 3, 1)),  # not 2027-02-28: its deadline is 11-28
        (date(2026, 11, 28), date(2027, 2, 28)),
        (date(2027, 11, 29), date(2028, 2, 29)),
        (date(2026, 8, 31), date(2026, 12, 1)),
        (date(2026, 10, 31), date(2027, 1, 31)),
    ],
)
def test_earliest_effective_date_of_a_notice_r_term_3(notice_on, earliest):
    assert earliest_effective_on(notice_on) == earliest
    check_notice(notice_on, earliest)
    with pytest.raises(NoticeTooLate):
        check_notice(notice_on, earliest.fromordinal(earliest.toordinal() - 1))


def test_warranty_runs_three_months_after_completion_r_lc_5():
    assert warranty_end(date(2026, 6, 15)) == date(2026, 9, 15)
    assert warranty_end(date(2026, 11, 30)) == date(2027, 2, 28)


def test_onboarding_deadline_is_the_end_of_the_month_after_the_planned_month_r_lc_6():
    assert onboarding_deadline(date(2026, 6, 10)) == date(2026, 7, 31)
    assert onboarding_deadline(date(2026, 12, 31)) == date(2027, 1, 31)
    assert onboarding_deadline(date(2028, 1, 1)) == date(2028, 2, 29)
