"""Domain errors of the pricing rules.

Plain exceptions, no HTTP: the application's single error handler maps them to
problem+json. Each carries a stable snake_case ``code``, the rule id it enforces
(``R-…`` of docs/DOMAIN.md), a human message and ``facts`` the client can act on
(for a late notice, the earliest effective date it would allow).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date


class PricingError(Exception):
    """Base of every pricing error."""

    code: str = "pricing_error"
    rule: str = ""

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        rule: str | None = None,
        facts: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or type(self).code
        self.rule = rule if rule is not None else type(self).rule
        self.facts: dict[str, object] = dict(facts or {})

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, rule={self.rule!r}, {self.message!r})"


class NoticeTooLate(PricingError):
    """R-TERM-3: notice must reach the carrier by add_months(effective_on, -3)."""

    code = "notice_too_late"
    rule = "R-TERM-3"

    def __init__(
        self,
        *,
        notice_on: date,
        effective_on: date,
        notice_deadline: date,
        earliest_effective_on: date,
    ) -> None:
        super().__init__(
            f"A notice given on {notice_on} is too late for {effective_on}: it had to be given "
            f"by {notice_deadline}; the earliest date it allows is {earliest_effective_on}.",
            facts={
                "notice_on": notice_on,
                "effective_on": effective_on,
                "notice_deadline": notice_deadline,
                "earliest_effective_on": earliest_effective_on,
            },
        )


class InvalidLicenceQuantity(PricingError):
    """R-CAT-2: a licence quantity is a whole number of IDs, 1 to 1,000,000."""

    code = "invalid_licence_quantity"
    rule = "R-CAT-2"


class InvalidPlan(PricingError):
    """R-CAT-1: every contract has exactly one of the four plans."""

    code = "invalid_plan"
    rule = "R-CAT-1"


class InvalidOption(PricingError):
    """R-CAT-1 / R-CAT-3: an option that does not exist or cannot be used here."""

    code = "invalid_option"
    rule = "R-CAT-1"


class InvalidOnboardingKind(PricingError):
    """R-CAT-1: the onboarding kind is ``simple`` or ``standard``."""

    code = "invalid_onboarding_kind"
    rule = "R-CAT-1"


class UnknownItem(PricingError):
    """R-CAT-4: the price book has no price for this item code."""

    code = "unknown_item"
    rule = "R-CAT-4"


class InvalidPriceBook(PricingError):
    """R-CAT-4: a price book version that cannot be used (missing prices, bad rates)."""

    code = "invalid_price_book"
    rule = "R-CAT-4"


class NoPriceBook(PricingError):
    """R-CAT-4: there is no price book version at all."""

    code = "no_price_book"
    rule = "R-CAT-4"


class InvalidMonth(PricingError):
    """A calendar month that does not exist or is not written ``YYYY-MM``."""

    code = "invalid_month"
    rule = "R-CHG-1"


class InvalidTimeline(PricingError):
    """R-CHG-1 / R-CHG-2: a service timeline whose dates or quantities contradict."""

    code = "invalid_timeline"
    rule = "R-CHG-1"


class InvalidAmount(PricingError):
    """An amount of yen that must be a whole, non-negative number and is not."""

    code = "invalid_amount"
    rule = "R-CHG-4"


class ServiceStartAfterFirstTermEnd(PricingError):
    """R-LC-5 / R-TERM-1: the service cannot start after the first term has ended."""

    code = "service_start_after_first_term_end"
    rule = "R-LC-5"


class EffectiveAfterTermEnd(PricingError):
    """R-CHG-5: an early termination must take effect within the term it shortens."""

    code = "effective_after_term_end"
    rule = "R-CHG-5"
