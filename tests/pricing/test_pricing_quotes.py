"""Quotes: the first invoice and the first year."""

from app.pricing import INITIAL_PRICE_BOOK, InvoiceTotals, PriceBook, quote

BOOK = INITIAL_PRICE_BOOK


def test_quote_of_example_a():
    result = quote(BOOK, "foundation-essential", 50, [], "simple")
    assert result.monthly.total == 93_000
    assert result.one_time.total == 550_000
    assert result.first_invoice == InvoiceTotals(643_000, 64_300, 0, 707_300)
    assert result.first_year.subtotal == 550_000 + 12 * 93_000
    assert result.first_year.tax == 64_300 + 11 * 9_300


def test_quote_of_example_b_takes_ad_integration_as_a_one_time_item():
    result = quote(
        BOOK, "complete-advantage", 120, ["soc", "reserved_ip", "ad_integration"], "standard"
    )
    assert result.monthly.total == 501_200
    assert [line.item for line in result.one_time.lines] == [
        "onboarding-standard",
        "ad-integration",
    ]
    assert result.first_invoice.total == 2_036_320
    assert result.first_year.subtotal == 7_364_400


def test_first_year_tax_is_the_sum_of_per_invoice_taxes_r_chg_4():
    """Tax is floored per invoice, so the year's tax is not floor(year subtotal × 10 %)."""
    book = PriceBook(
        effective_from=BOOK.effective_from,
        prices={**BOOK.prices, "basic": 50_005},
        tax_rate_percent=BOOK.tax_rate_percent,
        late_payment_rate_percent=BOOK.late_payment_rate_percent,
    )
    result = quote(book, "foundation-essential", 1, [], "simple")
    assert result.monthly.total == 58_605
    assert result.first_invoice.tax == 60_860  # floor(608,605 × 10 %)
    assert result.first_year.subtotal == 550_000 + 12 * 58_605
    assert result.first_year.tax == 60_860 + 11 * 5_860 == 125_320  # not 125,326
    assert result.first_year.total == result.first_year.subtotal + 125_320
