"""Monthly charges (R-CAT-2, R-CAT-3, R-CHG-1, R-CHG-2).

Monthly items bill by calendar month, whole months only, from the month of the service
start to the month of the termination's ``effective_on``. A month bills the highest
licence quantity and every option in effect on at least one of its days within the
service period.

The bill run prices hundreds of thousands of contract-months, so the line tuples are built
once per (price book, plan, units, options) and shared: they are immutable. The per-month
work is a handful of date comparisons.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

from app.pricing.calendar import Month, months_between_inclusive
from app.pricing.catalogue import (
    DISPLAY_NAMES,
    RECURRING_OPTIONS,
    ChargeKind,
    Item,
    Option,
    check_licence_ids,
    check_options,
    check_plan,
    units_for,
)
from app.pricing.errors import InvalidOption, InvalidTimeline
from app.pricing.lines import ChargeLine
from app.pricing.price_book import PriceBook

_SOC = 1
_RESERVED_IP = 2
_OPTION_BITS = {Option.SOC: _SOC, Option.RESERVED_IP: _RESERVED_IP}
_NO_END = date.max
_LAST_ORDINAL = Month(9999, 12).ordinal


def _options_mask(options: Iterable[str]) -> int:
    mask = 0
    for option in options:
        mask |= _OPTION_BITS[Option(option)]
    return mask


def _recurring_options(options: Iterable[str]) -> frozenset[str]:
    chosen = frozenset(options)
    if Option.AD_INTEGRATION in chosen:
        raise InvalidOption(
            "ad_integration is a one-time item (R-CHG-3), not a monthly option; "
            "bill it with one_time_lines or ad_integration_line.",
            rule="R-CHG-3",
            facts={"option": Option.AD_INTEGRATION, "allowed": sorted(RECURRING_OPTIONS)},
        )
    return check_options(chosen, RECURRING_OPTIONS)


@dataclass(frozen=True, slots=True)
class ContractShape:
    """What a contract bills monthly: plan, licence IDs and monthly options (R-CAT-1)."""

    plan: str
    license_ids: int
    options: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        object.__setattr__(self, "plan", check_plan(self.plan))
        check_licence_ids(self.license_ids)
        object.__setattr__(self, "options", _recurring_options(self.options))

    @property
    def units(self) -> int:
        return units_for(self.license_ids)


def _line(book: PriceBook, item: str, quantity: int, taxable: bool, rule: str) -> ChargeLine:
    unit_price = book.price(item)
    return ChargeLine(
        item=str(item),
        description=DISPLAY_NAMES[item],
        quantity=quantity,
        unit_price=unit_price,
        amount=quantity * unit_price,
        taxable=taxable,
        rule=rule,
    )


@lru_cache(maxsize=65_536)
def _lines_for(book: PriceBook, plan: str, units: int, mask: int) -> tuple[ChargeLine, ...]:
    """The monthly lines in tariff order; cached, the tuple is immutable and shared."""
    taxable = book.is_taxable(ChargeKind.MONTHLY)
    lines = [
        _line(book, Item.BASIC, 1, taxable, "R-CHG-1"),
        _line(book, plan, units, taxable, "R-CAT-2"),
    ]
    if mask & _SOC:
        # R-CAT-3 (Tariff ※1): soc-users always has the licence quantity.
        lines.append(_line(book, Item.SOC_BASE, 1, taxable, "R-CAT-3"))
        lines.append(_line(book, Item.SOC_USERS, units, taxable, "R-CAT-3"))
    if mask & _RESERVED_IP:
        lines.append(_line(book, Item.RESERVED_IP, 1, taxable, "R-CHG-1"))
    return tuple(lines)


@lru_cache(maxsize=65_536)
def _charge_for(book: PriceBook, plan: str, units: int, mask: int) -> int:
    return sum(line.amount for line in _lines_for(book, plan, units, mask))


def monthly_lines(book: PriceBook, shape: ContractShape) -> tuple[ChargeLine, ...]:
    """The lines of one whole month of ``shape`` (R-CAT-2, R-CAT-3)."""
    return _lines_for(book, shape.plan, shape.units, _options_mask(shape.options))


def monthly_charge(book: PriceBook, shape: ContractShape) -> int:
    """The monthly charge of ``shape`` before tax (also the R-CHG-5 and R-CHG-10 base)."""
    return _charge_for(book, shape.plan, shape.units, _options_mask(shape.options))


@dataclass(frozen=True, slots=True)
class OptionPeriod:
    """A monthly option in effect from ``starts_on`` to ``ends_on``, both included.

    ``ends_on`` is the removal's ``effective_on``: like a full termination's date, the
    removal day is the last service day of the removed part, so its month bills the option
    in full (R-CHG-1, 通則1) and R-CHG-5 charges the months after it. ``None``: not removed.
    """

    option: str
    starts_on: date
    ends_on: date | None = None

    def __post_init__(self) -> None:
        (option,) = _recurring_options({self.option})
        object.__setattr__(self, "option", option)
        if self.ends_on is not None and self.ends_on < self.starts_on:
            raise InvalidTimeline(
                f"The {option} option cannot end on {self.ends_on}, before it starts.",
                rule="R-CHG-2",
                facts={"starts_on": self.starts_on, "ends_on": self.ends_on},
            )


@dataclass(frozen=True, slots=True)
class ServiceTimeline:
    """What a contract bills over its service period (R-CHG-1, R-CHG-2).

    ``licence_changes`` are ``(effective_on, license_ids)`` pairs in date order, the first
    at or before ``service_start_on``. A change's ``effective_on`` counts for both the old
    and the new quantity: an increase bills from that day; for a decrease (a partial
    termination, R-LC-7) it is the last service day of the removed IDs, so their month
    bills them in full, as 通則1 bills a termination's month. ``service_end_on`` is the
    termination's ``effective_on`` (included), ``None`` while the contract runs.
    """

    plan: str
    service_start_on: date
    service_end_on: date | None
    licence_changes: tuple[tuple[date, int], ...]
    option_periods: tuple[OptionPeriod, ...] = ()
    # Derived once: months as ordinals, licence history as (date, units), options as bits.
    _first_ordinal: int = field(init=False, repr=False, compare=False)
    _last_ordinal: int = field(init=False, repr=False, compare=False)
    _changes: tuple[tuple[date, int], ...] = field(init=False, repr=False, compare=False)
    _periods: tuple[tuple[int, date, date], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "plan", check_plan(self.plan))
        start, end = self.service_start_on, self.service_end_on
        if end is not None and end < start:
            raise InvalidTimeline(
                f"The service cannot end on {end}, before it starts on {start}.",
                facts={"service_start_on": start, "service_end_on": end},
            )
        changes = tuple((on, ids) for on, ids in self.licence_changes)
        if not changes or changes[0][0] > start:
            raise InvalidTimeline(
                "The licence history must give the quantity in effect at the service start.",
                rule="R-CHG-2",
                facts={"service_start_on": start},
            )
        for (before, _), (after, _) in zip(changes, changes[1:], strict=False):
            if after <= before:
                raise InvalidTimeline(
                    "Licence changes must be in strictly increasing date order.",
                    rule="R-CHG-2",
                    facts={"effective_on": after},
                )
        for _, ids in changes:
            check_licence_ids(ids)
        object.__setattr__(self, "licence_changes", changes)
        object.__setattr__(self, "option_periods", tuple(self.option_periods))

        # Only the quantity in effect at the start matters among the earlier changes.
        at_start = [(on, ids) for on, ids in changes if on <= start][-1][1]
        later = [(on, units_for(ids)) for on, ids in changes if on > start]
        object.__setattr__(self, "_changes", ((start, units_for(at_start)), *later))
        periods = tuple(
            (_OPTION_BITS[Option(p.option)], p.starts_on, p.ends_on or _NO_END)
            for p in self.option_periods
        )
        object.__setattr__(self, "_periods", periods)
        # Month ordinals (year * 12 + month - 1) without building Month objects: the
        # bill run makes a timeline per contract.
        object.__setattr__(self, "_first_ordinal", start.year * 12 + start.month - 1)
        last = end.year * 12 + end.month - 1 if end is not None else _LAST_ORDINAL
        object.__setattr__(self, "_last_ordinal", last)

    @property
    def first_month(self) -> Month:
        return Month.of(self.service_start_on)

    @property
    def last_month(self) -> Month | None:
        return Month.of(self.service_end_on) if self.service_end_on is not None else None

    def license_ids_on(self, d: date) -> int:
        """The licence quantity from ``d`` on (after a change effective on ``d``)."""
        ids = self.licence_changes[0][1]
        for on, quantity in self.licence_changes:
            if on > d:
                break
            ids = quantity
        return ids

    def license_ids_in(self, month: Month) -> int | None:
        """The licence IDs ``month`` bills: the highest quantity in effect on one of its
        service days, as R-CAT-2 bills them (the invoice states it, issue 14 §3); None
        outside the billing months."""
        lo, hi = max(month.first_day, self.service_start_on), month.last_day
        if self.service_end_on is not None and hi > self.service_end_on:
            hi = self.service_end_on
        if hi < lo:
            return None
        start = self.service_start_on
        at_start = [ids for on, ids in self.licence_changes if on <= start][-1]
        highest = 0
        for on, ids in (
            (start, at_start),
            *((on, i) for on, i in self.licence_changes if on > start),
        ):
            if on > hi:
                break
            # As _billing_key: a change before the window supersedes; within it, the highest
            # (a decrease's effective day still bills the removed IDs).
            highest = ids if on < lo else max(highest, ids)
        return highest

    def options_on(self, d: date) -> frozenset[str]:
        """The monthly options from ``d`` on (an option removed effective ``d`` is gone)."""
        return frozenset(
            p.option
            for p in self.option_periods
            if p.starts_on <= d and (p.ends_on is None or d < p.ends_on)
        )

    def shape_on(self, d: date) -> ContractShape:
        """The shape from ``d`` on, after the changes effective on ``d``.

        The R-CHG-5 base of a full termination on ``d`` (the parts removed on ``d`` bear
        their own partial charge, R-LC-7); ``shape_on(d - 1 day)`` is the shape before them.
        """
        return ContractShape(self.plan, self.license_ids_on(d), self.options_on(d))


def _billing_key(timeline: ServiceTimeline, month: Month) -> tuple[int, int] | None:
    """(units, option bits) billed in ``month``, or None outside the billing months."""
    ordinal = month.ordinal
    if ordinal < timeline._first_ordinal or ordinal > timeline._last_ordinal:
        return None
    # The days of the month within the service period (R-CHG-2).
    lo = month.first_day
    if lo < timeline.service_start_on:
        lo = timeline.service_start_on
    hi = month.last_day
    end = timeline.service_end_on
    if end is not None and hi > end:
        hi = end
    units = 0
    for on, quantity in timeline._changes:
        if on > hi:
            break
        if on < lo:
            units = quantity  # a later change supersedes it before the window opens
        elif quantity > units:
            units = quantity  # in effect on some day of the window: highest wins
    mask = 0
    for bit, starts_on, ends_on in timeline._periods:
        if starts_on <= hi and ends_on >= lo:
            mask |= bit
    return units, mask


def recurring_lines_for_month(
    book: PriceBook, timeline: ServiceTimeline, month: Month
) -> tuple[ChargeLine, ...]:
    """The monthly lines ``timeline`` bills for ``month``; empty outside its billing months.

    ``book`` is the version pricing that month (``PriceBooks.for_month``, R-CAT-4).
    """
    key = _billing_key(timeline, month)
    if key is None:
        return ()
    return _lines_for(book, timeline.plan, key[0], key[1])


def recurring_charge_for_month(book: PriceBook, timeline: ServiceTimeline, month: Month) -> int:
    """The sum of ``recurring_lines_for_month`` (0 outside the billing months)."""
    key = _billing_key(timeline, month)
    if key is None:
        return 0
    return _charge_for(book, timeline.plan, key[0], key[1])


def billable_months(timeline: ServiceTimeline, up_to: Month | None = None) -> tuple[Month, ...]:
    """R-CHG-1: the billing months from the service start month to the termination month,
    stopping at ``up_to`` when given (required while the contract runs)."""
    last = timeline.last_month
    if up_to is not None and (last is None or up_to < last):
        last = up_to
    if last is None:
        raise InvalidTimeline(
            "A running contract's billing months need an up_to month.",
            facts={"service_start_on": timeline.service_start_on},
        )
    return tuple(months_between_inclusive(timeline.first_month, last))
