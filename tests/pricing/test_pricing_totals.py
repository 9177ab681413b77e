"""Invoice totals and tax (R-CHG-4)."""

from decimal import Decimal

from app.pricing import ChargeLine, InvoiceTotals, LineGroup, tax_on, totals

TEN = Decimal("10")


def _line(amount: int, taxable: bool = True) -> ChargeLine:
    return ChargeLine("other", "test", 1, amount, amount, taxable, "R-CHG-9")


def test_tax_is_floored_once_per_invoice_not_per_line_r_chg_4():
    lines = [_line(5), _line(5), _line(9)]
    assert sum(tax_on(line.amount, TEN) for line in lines) == 0  # per line: 0 + 0 + 0
    assert totals(lines, TEN).tax == 1  # per invoice: floor(19 × 10 %)


def test_non_taxable_lines_bear_no_tax_r_chg_4():
    result = totals([_line(643_000), _line(2_506_000, taxable=False)], TEN)
    assert result == InvoiceTotals(
        taxable_subtotal=643_000,
        tax=64_300,
        non_taxable_subtotal=2_506_000,
        total=643_000 + 64_300 + 2_506_000,
    )


def test_fractions_of_a_yen_are_dropped_r_chg_4():
    assert tax_on(99, TEN) == 9
    assert tax_on(1_234_567, Decimal("8")) == 98_765


def test_a_credit_never_refunds_more_tax_than_was_charged_r_chg_4():
    assert tax_on(19, TEN) == 1
    assert tax_on(-19, TEN) == -1  # not -2, which flooring toward −∞ would give
    assert totals([_line(-19)], TEN).total == -20


def test_an_empty_invoice_is_zero():
    assert totals([], TEN) == InvoiceTotals(0, 0, 0, 0)


def test_a_line_group_sums_its_lines():
    group = LineGroup.of([_line(1), _line(2)])
    assert group.total == 3
    assert len(group.lines) == 2
