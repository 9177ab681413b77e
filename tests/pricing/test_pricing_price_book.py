"""R-CAT-4: the versioned price book; R-CHG-4: taxable kinds as data."""

from datetime import date
from decimal import Decimal

import pytest

from app.pricing import (
    CATALOGUE_CODES,
    DEFAULT_TAXABLE_KINDS,
    INITIAL_PRICE_BOOK,
    InvalidPriceBook,
    Month,
    NoPriceBook,
    PriceBook,
    PriceBooks,
    UnknownItem,
)


def _book(effective_from: date, factor: int = 1, **changes: object) -> PriceBook:
    fields: dict[str, object] = {
        "effective_from": effective_from,
        "prices": {code: price * factor for code, price in INITIAL_PRICE_BOOK.prices.items()},
        "tax_rate_percent": Decimal("10"),
        "late_payment_rate_percent": Decimal("14.5"),
    }
    fields.update(changes)
    return PriceBook(**fields)  # type: ignore[arg-type]


def test_initial_price_book_is_the_2026_04_24_tariff_r_cat_4():
    book = INITIAL_PRICE_BOOK
    assert book.effective_from == date(2026, 4, 24)
    assert book.price("basic") == 50_000
    assert book.price("foundation-essential") == 8_600
    assert book.price("foundation-advantage") == 11_000
    assert book.price("complete-essential") == 13_600
    assert book.price("complete-advantage") == 21_600
    assert book.price("soc-base") == 100_000
    assert book.price("soc-users") == 1_000
    assert book.price("reserved-ip") == 80_000
    assert book.price("onboarding-simple") == 550_000
    assert book.price("onboarding-standard") == 1_000_000
    assert book.price("ad-integration") == 350_000
    assert book.tax_rate_percent == Decimal("10")
    assert book.late_payment_rate_percent == Decimal("14.5")


def test_an_unknown_item_has_no_price():
    with pytest.raises(UnknownItem) as caught:
        INITIAL_PRICE_BOOK.price("gold-plating")
    assert (caught.value.code, caught.value.rule) == ("unknown_item", "R-CAT-4")


def test_by_default_everything_is_taxable_but_early_termination_and_late_payment_r_chg_4():
    book = INITIAL_PRICE_BOOK
    assert book.taxable_kinds == DEFAULT_TAXABLE_KINDS
    for kind in ("monthly", "one-time", "cancellation", "surcharge", "overage", "work"):
        assert book.is_taxable(kind)
    assert not book.is_taxable("early-termination")
    assert not book.is_taxable("late-payment")


def test_a_tax_ruling_is_a_data_change_r_chg_4():
    book = _book(date(2027, 1, 1), taxable_kinds=DEFAULT_TAXABLE_KINDS - {"cancellation"})
    assert not book.is_taxable("cancellation")


def test_prices_cannot_be_changed_after_the_fact():
    with pytest.raises(TypeError):
        INITIAL_PRICE_BOOK.prices["basic"] = 1  # type: ignore[index]


def test_equal_versions_are_equal_and_hash_alike():
    assert _book(date(2027, 1, 1)) == _book(date(2027, 1, 1))
    assert hash(_book(date(2027, 1, 1))) == hash(_book(date(2027, 1, 1)))
    assert _book(date(2027, 1, 1)) != _book(date(2027, 1, 1), factor=2)


def test_a_version_must_price_every_catalogue_item():
    prices = dict(INITIAL_PRICE_BOOK.prices)
    del prices["reserved-ip"]
    with pytest.raises(InvalidPriceBook) as caught:
        _book(date(2027, 1, 1), prices=prices)
    assert caught.value.facts["missing"] == ["reserved-ip"]


def test_a_version_refuses_items_outside_the_catalogue():
    prices = {**INITIAL_PRICE_BOOK.prices, "gold-plating": 1}
    with pytest.raises(InvalidPriceBook):
        _book(date(2027, 1, 1), prices=prices)


@pytest.mark.parametrize("price", [-1, 1.5, True, "100"])
def test_prices_are_whole_non_negative_yen(price):
    with pytest.raises(InvalidPriceBook):
        _book(date(2027, 1, 1), prices={**INITIAL_PRICE_BOOK.prices, "basic": price})


@pytest.mark.parametrize("rate", [Decimal("-1"), Decimal("101"), 10.0, Decimal("NaN")])
def test_rates_are_decimal_percentages_between_0_and_100(rate):
    with pytest.raises(InvalidPriceBook):
        _book(date(2027, 1, 1), tax_rate_percent=rate)
    with pytest.raises(InvalidPriceBook):
        _book(date(2027, 1, 1), late_payment_rate_percent=rate)


def test_unknown_taxable_kinds_are_refused():
    with pytest.raises(InvalidPriceBook):
        _book(date(2027, 1, 1), taxable_kinds=frozenset({"monthly", "bribes"}))


def test_every_catalogue_code_is_priced():
    assert set(INITIAL_PRICE_BOOK.prices) == CATALOGUE_CODES


class TestVersions:
    first = _book(date(2026, 4, 24))
    second = _book(date(2027, 1, 15), factor=2)
    books = PriceBooks([second, first])

    def test_are_kept_in_date_order(self):
        assert self.books.versions == (self.first, self.second)
        assert list(self.books) == [self.first, self.second]
        assert len(self.books) == 2

    def test_a_month_is_priced_by_the_version_in_effect_on_its_first_day_r_cat_4(self):
        assert self.books.for_month(Month(2027, 1)) is self.first
        assert self.books.for_month(Month(2027, 2)) is self.second

    def test_a_version_effective_on_the_first_prices_that_month(self):
        books = PriceBooks([self.first, _book(date(2027, 2, 1), factor=3)])
        assert books.for_month(Month(2027, 2)).price("basic") == 150_000
        assert books.for_month(Month(2027, 1)) is self.first

    def test_months_before_the_first_version_use_the_earliest(self):
        assert self.books.for_month(Month(2026, 4)) is self.first
        assert self.books.for_month(Month(2020, 1)) is self.first

    def test_one_time_items_use_the_version_in_effect_on_a_date(self):
        assert self.books.for_date(date(2027, 1, 14)) is self.first
        assert self.books.for_date(date(2027, 1, 15)) is self.second
        assert self.books.for_date(date(2026, 1, 1)) is self.first

    def test_two_versions_on_the_same_day_are_refused(self):
        with pytest.raises(InvalidPriceBook):
            PriceBooks([self.first, _book(self.first.effective_from, factor=2)])

    def test_there_must_be_a_version(self):
        with pytest.raises(NoPriceBook) as caught:
            PriceBooks([])
        assert caught.value.code == "no_price_book"
