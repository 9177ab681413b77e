"""One-time items (R-CHG-3)."""

import pytest

from app.pricing import (
    INITIAL_PRICE_BOOK,
    InvalidOnboardingKind,
    ad_integration_line,
    onboarding_line,
    one_time_lines,
)

BOOK = INITIAL_PRICE_BOOK


def test_simple_onboarding_is_one_taxable_line_r_chg_3():
    (line,) = one_time_lines(BOOK, "simple", ad_integration=False)
    assert (line.item, line.description, line.quantity, line.amount) == (
        "onboarding-simple",
        "初期導入支援（簡易版）",
        1,
        550_000,
    )
    assert line.taxable
    assert line.rule == "R-CHG-3"


def test_standard_onboarding_with_ad_integration_r_chg_3():
    lines = one_time_lines(BOOK, "standard", ad_integration=True)
    assert [(line.item, line.amount) for line in lines] == [
        ("onboarding-standard", 1_000_000),
        ("ad-integration", 350_000),
    ]
    assert lines[1].description == "AD連携（オプション）"


def test_ad_integration_added_later_is_its_own_line_r_lc_7():
    assert ad_integration_line(BOOK).amount == 350_000
    assert onboarding_line(BOOK, "standard").amount == 1_000_000


def test_an_unknown_onboarding_kind_is_refused_r_cat_1():
    with pytest.raises(InvalidOnboardingKind) as caught:
        one_time_lines(BOOK, "deluxe", ad_integration=False)
    assert caught.value.code == "invalid_onboarding_kind"
