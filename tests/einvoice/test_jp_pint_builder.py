"""Issue 14 §1: the pure JP PINT builder (app/einvoice/jp_pint.py) and §2's check digits."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from lxml import etree

from app.core.corporate_numbers import (
    PLACEHOLDER_REGISTRATION_NUMBER,
    check_digit,
    is_corporate_number,
    is_registration_number,
)
from app.einvoice.categories import TaxCategory, category_of
from app.einvoice.documents import BuyerIds, buyer_endpoint
from app.einvoice.jp_pint import Document, Line, Party, build

CBC = "{urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2}"
CAC = "{urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2}"


def _document(*lines: Line) -> Document:
    taxable = sum(line.amount for line in lines if line.category is TaxCategory.STANDARD)
    other = sum(line.amount for line in lines if line.category is TaxCategory.OUTSIDE_SCOPE)
    tax = taxable // 10
    return Document(
        kind="invoice",
        number="INV-2026-0000001",
        issued_on=date(2026, 7, 1),
        due_on=date(2026, 7, 31),
        period=(date(2026, 6, 1), date(2026, 6, 30)),
        seller=Party("売主株式会社", ("0188", "1345678901234"), "T1345678901234", "1345678901234"),
        buyer=Party("買主株式会社", None),
        lines=lines,
        tax_rate_percent=Decimal("10"),
        taxable_subtotal=taxable,
        tax=tax,
        non_taxable_subtotal=other,
        total=taxable + tax + other,
    )


def test_categories_come_from_the_stored_taxable_verdict_r_chg_4() -> None:
    assert category_of(True) is TaxCategory.STANDARD
    assert category_of(False) is TaxCategory.OUTSIDE_SCOPE


def test_tax_is_stated_once_per_category_in_whole_yen_r_chg_4() -> None:
    doc = _document(
        Line("基本料金", "基本料金", 1, 50_005, 50_005, TaxCategory.STANDARD),
        Line("ライセンス", "ライセンス", 3, 1_001, 3_003, TaxCategory.STANDARD),
        Line("遅延損害金", "遅延損害金", 1, 5_338, 5_338, TaxCategory.OUTSIDE_SCOPE),
    )
    root = etree.fromstring(build(doc))
    subtotals = root.findall(f"{CAC}TaxTotal/{CAC}TaxSubtotal")
    found = [
        (
            s.findtext(f"{CAC}TaxCategory/{CBC}ID"),
            s.findtext(f"{CBC}TaxableAmount"),
            s.findtext(f"{CBC}TaxAmount"),
            s.findtext(f"{CAC}TaxCategory/{CBC}Percent"),
        )
        for s in subtotals
    ]
    # floor(53,008 × 10 %) = 5,300 once for the invoice, not 5,000 + 300 per line.
    assert found == [("S", "53008", "5300", "10"), ("O", "5338", "0", None)]
    assert root.findtext(f"{CAC}TaxTotal/{CBC}TaxAmount") == "5300"


def test_a_negative_line_is_a_negative_quantity_at_a_positive_price() -> None:
    doc = _document(
        Line("基本料金", "基本料金", 1, 50_000, 50_000, TaxCategory.STANDARD),
        Line("値引き", "日割り返還", 1, -5_000, -5_000, TaxCategory.STANDARD),
    )
    root = etree.fromstring(build(doc))
    line = root.findall(f"{CAC}InvoiceLine")[1]
    assert line.findtext(f"{CBC}InvoicedQuantity") == "-1"
    assert line.findtext(f"{CAC}Price/{CBC}PriceAmount") == "5000"
    assert line.findtext(f"{CBC}LineExtensionAmount") == "-5000"


def test_the_same_data_gives_the_same_bytes() -> None:
    line = Line("基本料金", "基本料金 <&>", 1, 50_000, 50_000, TaxCategory.STANDARD)
    assert build(_document(line)) == build(_document(line))
    assert b"&lt;&amp;&gt;" in build(_document(line))


def test_the_buyer_endpoint_prefers_the_peppol_id_then_the_corporate_number() -> None:
    assert buyer_endpoint(BuyerIds("7123456789012", None, "0221:T7123456789012")) == (
        "0221",
        "T7123456789012",
    )
    assert buyer_endpoint(BuyerIds("7123456789012")) == ("0188", "7123456789012")
    assert buyer_endpoint(BuyerIds(None, "T7123456789012")) is None


def test_the_national_tax_agencys_check_digit_issue_14_2() -> None:
    """国税庁's own 法人番号 is 7000012050002: 9 − (2·1 + 5·1 + 2·1 + 1·2) mod 9 = 7."""
    assert check_digit("000012050002") == 7
    assert is_corporate_number("7000012050002")
    assert not is_corporate_number("1000012050002")
    assert not is_corporate_number("700001205000")  # 12 digits
    assert is_registration_number("T7000012050002")
    assert not is_registration_number("7000012050002")
    assert not is_registration_number(PLACEHOLDER_REGISTRATION_NUMBER)
