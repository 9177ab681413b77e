"""Calendar arithmetic of the terms (DOMAIN.md §3; Civil Code art. 140 and 143).

Every date is a business date in Asia/Tokyo given by the caller: nothing here reads a
clock. ``add_months`` and ``period_end`` are the two helpers every rule is written in.
"""

from __future__ import annotations

import calendar as _stdlib_calendar
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import overload

from app.pricing.errors import (
    InvalidMonth,
    NoticeTooLate,
    ServiceStartAfterFirstTermEnd,
)

ONE_DAY = timedelta(days=1)
TERM_MONTHS = 12  # R-TERM-1/2: a term is one year.
NOTICE_MONTHS = 3  # R-TERM-3: written notice three months before.
WARRANTY_MONTHS = 3  # R-LC-5 (Art. 20.7): three months of free defect repair.


def days_in_month(year: int, month: int) -> int:
    return _stdlib_calendar.monthrange(year, month)[1]


def _shift(year: int, month: int, n: int) -> tuple[int, int]:
    """(year, month) moved by n months."""
    y, m0 = divmod(year * 12 + (month - 1) + n, 12)
    return y, m0 + 1


def add_months(d: date, n: int) -> date:
    """The same day n months later (n may be negative), clamped to that month's last day.

    2027-05-31 − 3 months = 2027-02-28 (DOMAIN.md §3).
    """
    year, month = _shift(d.year, d.month, n)
    return date(year, month, min(d.day, days_in_month(year, month)))


def period_end(first_day: date, months: int) -> date:
    """Last day of a period of ``months`` months whose first counted day is ``first_day``.

    Civil Code art. 143(2): the period ends on the day before the day that corresponds to
    ``first_day`` ``months`` later; where that month has no such day, on its last day.
    (Art. 143(1), a period starting on a month's first day ending on a month's last day, is
    the same rule.) Not ``add_months(first_day, months) - 1 day``: from 2028-02-29 the
    twelve months end on 2029-02-28, not 2029-02-27.
    """
    if months < 1:
        raise ValueError("a period has at least one month")
    year, month = _shift(first_day.year, first_day.month, months)
    if first_day.day > days_in_month(year, month):
        return date(year, month, days_in_month(year, month))
    return date(year, month, first_day.day) - ONE_DAY


def month_start(d: date) -> date:
    return d.replace(day=1)


def month_end(d: date) -> date:
    return d.replace(day=days_in_month(d.year, d.month))


@dataclass(frozen=True, slots=True)
class Month:
    """A calendar month, the unit of billing (R-CHG-1). Ordered; ``Month + 1`` is next month."""

    year: int
    month: int
    # Derived once so that the bill run's per-month work is a few comparisons.
    ordinal: int = field(init=False, repr=False, compare=False)
    first_day: date = field(init=False, repr=False, compare=False)
    last_day: date = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not (isinstance(self.year, int) and isinstance(self.month, int)):
            raise InvalidMonth(f"not a month: {self.year!r}-{self.month!r}")
        if not (1 <= self.month <= 12 and 1 <= self.year <= 9999):
            raise InvalidMonth(f"not a month: {self.year}-{self.month}")
        object.__setattr__(self, "ordinal", self.year * 12 + self.month - 1)
        object.__setattr__(self, "first_day", date(self.year, self.month, 1))
        last = days_in_month(self.year, self.month)
        object.__setattr__(self, "last_day", date(self.year, self.month, last))

    @classmethod
    def of(cls, d: date) -> Month:
        """The month containing ``d``."""
        return cls(d.year, d.month)

    @classmethod
    def parse(cls, text: str) -> Month:
        """``"2026-06"`` → Month(2026, 6); anything else is refused."""
        if len(text) != 7 or text[4] != "-" or not (text[:4].isdigit() and text[5:].isdigit()):
            raise InvalidMonth(f"a month is written YYYY-MM, not {text!r}")
        return cls(int(text[:4]), int(text[5:]))

    @classmethod
    def _from_ordinal(cls, ordinal: int) -> Month:
        y, m0 = divmod(ordinal, 12)
        return cls(y, m0 + 1)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def __add__(self, n: int) -> Month:
        if not isinstance(n, int):
            return NotImplemented
        return Month._from_ordinal(self.ordinal + n)

    __radd__ = __add__

    @overload
    def __sub__(self, other: int) -> Month: ...
    @overload
    def __sub__(self, other: Month) -> int: ...
    def __sub__(self, other: int | Month) -> Month | int:
        """``Month - n`` is a month; ``Month - Month`` is the number of months between."""
        if isinstance(other, Month):
            return self.ordinal - other.ordinal
        if isinstance(other, int):
            return Month._from_ordinal(self.ordinal - other)
        return NotImplemented

    def __lt__(self, other: Month) -> bool:
        return self.ordinal < other.ordinal

    def __le__(self, other: Month) -> bool:
        return self.ordinal <= other.ordinal

    def __gt__(self, other: Month) -> bool:
        return self.ordinal > other.ordinal

    def __ge__(self, other: Month) -> bool:
        return self.ordinal >= other.ordinal

    def next(self) -> Month:
        return self + 1

    def previous(self) -> Month:
        return self - 1

    def contains(self, d: date) -> bool:
        return d.year == self.year and d.month == self.month


def months_between_inclusive(first: Month, last: Month) -> Iterator[Month]:
    """Every month from ``first`` to ``last``, both included (nothing when first > last)."""
    for ordinal in range(first.ordinal, last.ordinal + 1):
        yield Month._from_ordinal(ordinal)


# --- Term and renewal (R-TERM-1, R-TERM-2) ---------------------------------------------


def first_term_end(onboarding_started_on: date) -> date:
    """R-TERM-1 (Art. 10.2): one year counted from the onboarding start.

    Art. 140: the day the period is set running is not counted, so the first counted day is
    the day after the onboarding start: 2026-05-20 → 2027-05-20; 2027-02-28 → 2028-02-29.
    """
    return period_end(onboarding_started_on + ONE_DAY, TERM_MONTHS)


def next_term_end(previous_end: date) -> date:
    """R-TERM-2: a renewed term runs from the day after the previous end for one year."""
    return period_end(previous_end + ONE_DAY, TERM_MONTHS)


@dataclass(frozen=True, slots=True)
class Term:
    """A contract term (both dates included); ``renewals`` counts renewals before it."""

    start_on: date
    end_on: date
    renewals: int

    def contains(self, d: date) -> bool:
        return self.start_on <= d <= self.end_on


def term_on(onboarding_started_on: date, service_start_on: date, on_date: date) -> Term:
    """The term containing ``on_date`` (R-TERM-1, R-TERM-2).

    The first term runs from the service start to ``first_term_end``; each renewal from
    the day after the previous end for twelve months. A date before the service start gets
    the first term. One step per year, so dates decades away cost a few dozen steps.
    """
    end = first_term_end(onboarding_started_on)
    if service_start_on > end:
        raise ServiceStartAfterFirstTermEnd(
            f"The service cannot start on {service_start_on}: the first term, counted from "
            f"the onboarding start {onboarding_started_on}, ends on {end}.",
            facts={"service_start_on": service_start_on, "first_term_end": end},
        )
    start, renewals = service_start_on, 0
    while on_date > end:
        start, end, renewals = end + ONE_DAY, next_term_end(end), renewals + 1
    return Term(start_on=start, end_on=end, renewals=renewals)


# --- Notice (R-TERM-3) -----------------------------------------------------------------


def notice_deadline(effective_on: date) -> date:
    """R-TERM-3: the last day a notice for ``effective_on`` may be given."""
    return add_months(effective_on, -NOTICE_MONTHS)


def earliest_effective_on(notice_on: date) -> date:
    """The smallest date e with ``notice_deadline(e) >= notice_on`` (R-TERM-3).

    Usually three months later, but not at month ends: a notice on 2026-11-30 does not
    allow 2027-02-28 (whose deadline is 2026-11-28); the answer is 2027-03-01.
    ``notice_deadline`` never decreases, so when the same day three months later does not
    exist, the first day of the following month is the smallest date that works.
    """
    candidate = add_months(notice_on, NOTICE_MONTHS)
    if candidate.day == notice_on.day:
        return candidate
    return candidate + ONE_DAY  # candidate was clamped to a month's last day


def check_notice(notice_on: date, effective_on: date) -> None:
    """Refuse a late notice (R-TERM-3), naming the earliest date the notice allows."""
    deadline = notice_deadline(effective_on)
    if notice_on > deadline:
        raise NoticeTooLate(
            notice_on=notice_on,
            effective_on=effective_on,
            notice_deadline=deadline,
            earliest_effective_on=earliest_effective_on(notice_on),
        )


# --- Onboarding (R-LC-5, R-LC-6) ------------------------------------------------------


def warranty_end(completed_on: date) -> date:
    """R-LC-5 (Art. 20.7): free defect repair for three months after completion.

    Counted from the day after completion (Art. 140): 2026-06-15 → 2026-09-15;
    2026-11-30 → 2027-02-28.
    """
    return period_end(completed_on + ONE_DAY, WARRANTY_MONTHS)


def onboarding_deadline(planned_installation_on: date) -> date:
    """R-LC-6 (Art. 14.4): last day of the month after the planned installation month."""
    return month_end(add_months(month_start(planned_installation_on), 1))
