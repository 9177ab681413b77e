"""Early termination (R-CHG-5, R-TERM-4; Art. 24) and the termination reasons.

The contractor pays, in one non-taxable sum on the final invoice, the monthly charge in
effect on ``effective_on`` for every month after the termination month up to and including
the month of the term's end. The termination month itself bills as a normal month
(R-CHG-1), so no month is billed twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from types import MappingProxyType

from app.pricing.calendar import Month
from app.pricing.catalogue import CHARGE_KIND_NAMES, ChargeKind
from app.pricing.errors import EffectiveAfterTermEnd, InvalidAmount
from app.pricing.lines import ChargeLine
from app.pricing.price_book import DEFAULT_TAXABLE_KINDS, PriceBook
from app.pricing.recurring import ContractShape, monthly_charge


class Party(StrEnum):
    CONTRACTOR = "contractor"
    CARRIER = "carrier"


class TerminationReason(StrEnum):
    """R-TERM-4: why a contract ends; ``rule`` says what that implies."""

    CONTRACTOR_REQUEST = "contractor_request"
    NON_RENEWAL = "non_renewal"
    PLAN_CHANGE = "plan_change"
    PAYMENT_DEFAULT = "payment_default"
    BREACH = "breach"
    ONBOARDING_DEADLINE_EXCEEDED = "onboarding_deadline_exceeded"
    NONCONFORMITY_UNRESOLVED = "nonconformity_unresolved"
    SERVICE_DISCONTINUED = "service_discontinued"
    FORCE_MAJEURE = "force_majeure"

    @property
    def rule(self) -> TerminationRule:
        return TERMINATION_RULES[self]


@dataclass(frozen=True, slots=True)
class TerminationRule:
    """One row of the R-TERM-4 table."""

    reason: TerminationReason
    who: Party
    article: str
    needs_notice: bool  # R-TERM-3
    early_termination_charge: bool  # R-CHG-5
    cancellation_fee_instead: bool = False  # R-CHG-6 applies instead (Art. 14.4)
    costs_incurred_billed: bool = False  # Art. 20.7: costs incurred are billed


_R = TerminationReason
TERMINATION_RULES: Mapping[TerminationReason, TerminationRule] = MappingProxyType(
    {
        rule.reason: rule
        for rule in (
            TerminationRule(_R.CONTRACTOR_REQUEST, Party.CONTRACTOR, "Art. 13", True, True),
            TerminationRule(_R.NON_RENEWAL, Party.CONTRACTOR, "Art. 10.2", True, False),
            TerminationRule(_R.PLAN_CHANGE, Party.CONTRACTOR, "Art. 12", True, True),
            TerminationRule(_R.PAYMENT_DEFAULT, Party.CARRIER, "Art. 14.1", False, True),
            TerminationRule(_R.BREACH, Party.CARRIER, "Art. 14.2", False, True),
            TerminationRule(
                _R.ONBOARDING_DEADLINE_EXCEEDED,
                Party.CARRIER,
                "Art. 14.4",
                needs_notice=False,
                early_termination_charge=False,
                cancellation_fee_instead=True,
            ),
            TerminationRule(
                _R.NONCONFORMITY_UNRESOLVED,
                Party.CONTRACTOR,
                "Art. 20.7",
                needs_notice=False,
                early_termination_charge=False,
                costs_incurred_billed=True,
            ),
            TerminationRule(_R.SERVICE_DISCONTINUED, Party.CARRIER, "Art. 17", False, False),
            TerminationRule(_R.FORCE_MAJEURE, Party.CARRIER, "Art. 31", False, False),
        )
    }
)


@dataclass(frozen=True, slots=True)
class EarlyTermination:
    """The R-CHG-5 charge: ``months`` × the monthly charge, and its line (None when 0)."""

    months: int
    amount: int
    line: ChargeLine | None


def termination_months(effective_on: date, term_end_on: date) -> int:
    """Months after the termination month up to and including the month of the term end.

    0 when both fall in the same month (including a termination on the term end).
    """
    if effective_on > term_end_on:
        raise EffectiveAfterTermEnd(
            f"A termination on {effective_on} is not within the term ending {term_end_on}.",
            facts={"effective_on": effective_on, "term_end_on": term_end_on},
        )
    return Month.of(term_end_on) - Month.of(effective_on)


def _is_taxable(book: PriceBook | None) -> bool:
    kinds = book.taxable_kinds if book is not None else DEFAULT_TAXABLE_KINDS
    return ChargeKind.EARLY_TERMINATION in kinds


def early_termination_charge(
    monthly_charge_on_effective: int,
    effective_on: date,
    term_end_on: date,
    *,
    book: PriceBook | None = None,
    description: str | None = None,
) -> EarlyTermination:
    """R-CHG-5 (Art. 24): the remaining months of the term, in one sum.

    ``monthly_charge_on_effective`` is the monthly charge in effect on ``effective_on``,
    priced by the version pricing the termination month. Non-taxable by default (通則5);
    pass ``book`` to follow its taxable kinds instead.
    """
    if isinstance(monthly_charge_on_effective, bool) or not isinstance(
        monthly_charge_on_effective, int
    ):
        raise InvalidAmount(
            "The monthly charge is whole yen.", rule="R-CHG-5", facts={"monthly_charge": None}
        )
    if monthly_charge_on_effective < 0:
        raise InvalidAmount(
            "The monthly charge cannot be negative.",
            rule="R-CHG-5",
            facts={"monthly_charge": monthly_charge_on_effective},
        )
    months = termination_months(effective_on, term_end_on)
    amount = months * monthly_charge_on_effective
    if amount == 0:
        return EarlyTermination(months=months, amount=0, line=None)
    name = CHARGE_KIND_NAMES[ChargeKind.EARLY_TERMINATION]
    line = ChargeLine(
        item=str(ChargeKind.EARLY_TERMINATION),
        description=description
        or f"{name}（{Month.of(effective_on) + 1}〜{Month.of(term_end_on)}、{months}か月）",
        quantity=months,
        unit_price=monthly_charge_on_effective,
        amount=amount,
        taxable=_is_taxable(book),
        rule="R-CHG-5",
    )
    return EarlyTermination(months=months, amount=amount, line=line)


def partial_early_termination(
    book: PriceBook,
    before: ContractShape,
    after: ContractShape,
    effective_on: date,
    term_end_on: date,
) -> EarlyTermination:
    """R-LC-7 + R-CHG-5: a licence decrease or option removal terminates part of a contract.

    The charge is (monthly charge before − monthly charge after) × the remaining months,
    both priced by ``book`` (the version pricing the termination month). Example H: 120 →
    60 IDs on Complete Advantage with SOC, effective 2026-12-10, term end 2027-05-20:
    5 × 6 × (21,600 + 1,000) = 678,000. A change that does not lower the monthly charge
    removes nothing chargeable: no charge.
    """
    removed = monthly_charge(book, before) - monthly_charge(book, after)
    if removed <= 0:
        return EarlyTermination(
            months=termination_months(effective_on, term_end_on), amount=0, line=None
        )
    name = CHARGE_KIND_NAMES[ChargeKind.EARLY_TERMINATION]
    months = termination_months(effective_on, term_end_on)
    return early_termination_charge(
        removed,
        effective_on,
        term_end_on,
        book=book,
        description=f"{name}（一部解除、{Month.of(effective_on) + 1}〜{Month.of(term_end_on)}、"
        f"{months}か月）",
    )
