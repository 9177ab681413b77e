"""The catalogue of the tariff (DOMAIN.md §1, Tariff tables 1 and 2).

Codes and names only: prices live in the price book (R-CAT-4).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from types import MappingProxyType

from app.pricing.errors import (
    InvalidLicenceQuantity,
    InvalidOnboardingKind,
    InvalidOption,
    InvalidPlan,
)

MIN_LICENCE_IDS = 1
MAX_LICENCE_IDS = 1_000_000
IDS_PER_UNIT = 10  # "10IDごとに": each 10 IDs or part of 10 (R-CAT-2).


class Plan(StrEnum):
    """R-CAT-1: exactly one plan per contract; each is a per-10-ID monthly item."""

    FOUNDATION_ESSENTIAL = "foundation-essential"
    FOUNDATION_ADVANTAGE = "foundation-advantage"
    COMPLETE_ESSENTIAL = "complete-essential"
    COMPLETE_ADVANTAGE = "complete-advantage"


class Item(StrEnum):
    """Every priced item code of the tariff."""

    BASIC = "basic"
    FOUNDATION_ESSENTIAL = "foundation-essential"
    FOUNDATION_ADVANTAGE = "foundation-advantage"
    COMPLETE_ESSENTIAL = "complete-essential"
    COMPLETE_ADVANTAGE = "complete-advantage"
    SOC_BASE = "soc-base"
    SOC_USERS = "soc-users"
    RESERVED_IP = "reserved-ip"
    ONBOARDING_SIMPLE = "onboarding-simple"
    ONBOARDING_STANDARD = "onboarding-standard"
    AD_INTEGRATION = "ad-integration"


class Option(StrEnum):
    SOC = "soc"
    RESERVED_IP = "reserved_ip"
    AD_INTEGRATION = "ad_integration"


class OnboardingKind(StrEnum):
    SIMPLE = "simple"
    STANDARD = "standard"


class ChargeKind(StrEnum):
    """What a charge is, for tax (R-CHG-4) and for invoice lines.

    ``monthly`` and ``one-time`` are the catalogue items; the others are the charges the
    terms define outside the catalogue (R-CHG-5..R-CHG-9).
    """

    MONTHLY = "monthly"
    ONE_TIME = "one-time"
    EARLY_TERMINATION = "early-termination"
    CANCELLATION = "cancellation"
    LATE_PAYMENT = "late-payment"
    SURCHARGE = "surcharge"
    OVERAGE = "overage"
    WORK = "work"
    COLLECTION = "collection"
    OTHER = "other"


CATALOGUE_CODES: frozenset[str] = frozenset(Item)
PLANS: frozenset[str] = frozenset(Plan)
OPTIONS: frozenset[str] = frozenset(Option)
# Options billed monthly; ``ad_integration`` is a one-time item only (R-CHG-3).
RECURRING_OPTIONS: frozenset[str] = frozenset({Option.SOC, Option.RESERVED_IP})
ONBOARDING_KINDS: frozenset[str] = frozenset(OnboardingKind)
CHARGE_KINDS: frozenset[str] = frozenset(ChargeKind)

# Items billed per started 10 IDs (R-CAT-2); ``soc-users`` follows the licence (R-CAT-3).
PER_10_ID_ITEMS: frozenset[str] = frozenset(
    {*Plan, Item.SOC_USERS},
)
MONTHLY_ITEMS: frozenset[str] = frozenset(
    {Item.BASIC, *Plan, Item.SOC_BASE, Item.SOC_USERS, Item.RESERVED_IP},
)
ONE_TIME_ITEMS: frozenset[str] = frozenset(
    {Item.ONBOARDING_SIMPLE, Item.ONBOARDING_STANDARD, Item.AD_INTEGRATION},
)

ONBOARDING_ITEMS: Mapping[str, str] = MappingProxyType(
    {
        OnboardingKind.SIMPLE: Item.ONBOARDING_SIMPLE,
        OnboardingKind.STANDARD: Item.ONBOARDING_STANDARD,
    }
)

# Names as printed on invoices, from the tariff (第1表, 第2表).
DISPLAY_NAMES: Mapping[str, str] = MappingProxyType(
    {
        Item.BASIC: "基本料金（設定変更、テクニカルサポート）",
        Item.FOUNDATION_ESSENTIAL: "Cisco Secure Connect Foundation Essential プラン",
        Item.FOUNDATION_ADVANTAGE: "Cisco Secure Connect Foundation Advantage プラン",
        Item.COMPLETE_ESSENTIAL: "Cisco Secure Connect Complete Essential プラン",
        Item.COMPLETE_ADVANTAGE: "Cisco Secure Connect Complete Advantage プラン",
        Item.SOC_BASE: "SOCセキュリティ分析 基本料金（オプション）",
        Item.SOC_USERS: "SOCセキュリティ分析 ユーザー料金（オプション）",
        Item.RESERVED_IP: "Reserved IP（オプション）",
        Item.ONBOARDING_SIMPLE: "初期導入支援（簡易版）",
        Item.ONBOARDING_STANDARD: "初期導入支援（通常版）",
        Item.AD_INTEGRATION: "AD連携（オプション）",
    }
)

# Names of the charges outside the catalogue, in the terms' own words.
CHARGE_KIND_NAMES: Mapping[str, str] = MappingProxyType(
    {
        ChargeKind.MONTHLY: "基本利用料金",
        ChargeKind.ONE_TIME: "一時金",
        ChargeKind.EARLY_TERMINATION: "契約期間内の解除に係る料金",  # Art. 24
        ChargeKind.CANCELLATION: "解約金",  # Art. 9.2
        ChargeKind.LATE_PAYMENT: "遅延損害金",  # Art. 26
        ChargeKind.SURCHARGE: "割増金",  # Art. 25
        ChargeKind.OVERAGE: "転送量超過料金",  # Tariff ※3
        ChargeKind.WORK: "作業料金",  # Tariff ※4
        ChargeKind.COLLECTION: "再請求費用",  # Art. 27.2
        ChargeKind.OTHER: "その他",
    }
)


def units_for(license_ids: int) -> int:
    """R-CAT-2: billed units of a per-10-ID item, ``ceil(IDs / 10)``; 25 IDs bill 3 units."""
    check_licence_ids(license_ids)
    return -(-license_ids // IDS_PER_UNIT)


def check_licence_ids(license_ids: int) -> None:
    """R-CAT-2: a whole number of IDs, 1 to 1,000,000."""
    if (
        not isinstance(license_ids, int)
        or isinstance(license_ids, bool)
        or not MIN_LICENCE_IDS <= license_ids <= MAX_LICENCE_IDS
    ):
        raise InvalidLicenceQuantity(
            f"The licence quantity must be a whole number of IDs from {MIN_LICENCE_IDS} to "
            f"{MAX_LICENCE_IDS:,}, not {license_ids!r}.",
            facts={"license_ids": license_ids, "min": MIN_LICENCE_IDS, "max": MAX_LICENCE_IDS},
        )


def check_plan(plan: str) -> Plan:
    if plan not in PLANS:
        raise InvalidPlan(f"Unknown plan {plan!r}.", facts={"plan": plan, "allowed": sorted(PLANS)})
    return Plan(plan)


def check_onboarding_kind(kind: str) -> OnboardingKind:
    if kind not in ONBOARDING_KINDS:
        raise InvalidOnboardingKind(
            f"Unknown onboarding kind {kind!r}.",
            facts={"onboarding_kind": kind, "allowed": sorted(ONBOARDING_KINDS)},
        )
    return OnboardingKind(kind)


def check_options(options: Iterable[str], allowed: frozenset[str] = OPTIONS) -> frozenset[Option]:
    """The options as a frozenset of ``Option`` values, refusing any outside ``allowed``."""
    chosen = frozenset(options)
    unknown = chosen - allowed
    if unknown:
        raise InvalidOption(
            f"Option(s) not allowed here: {', '.join(sorted(unknown))}.",
            facts={"options": sorted(unknown), "allowed": sorted(allowed)},
        )
    return frozenset(Option(o) for o in chosen)


def check_option_can_be_added(option: str) -> Option:
    """R-CAT-3 (Tariff ※1): ``soc`` is chosen on the application only; adding it later is
    refused. ``reserved_ip`` may be added at any time and ``ad_integration`` once (R-LC-7;
    "once" needs the contract's history, so the contracts feature checks it)."""
    (chosen,) = check_options({option})
    if chosen is Option.SOC:
        raise InvalidOption(
            "SOC security analysis can only be chosen on the application; it cannot be "
            "added to an accepted contract (Tariff ※1).",
            code="soc_only_on_application",
            rule="R-CAT-3",
            facts={"option": str(chosen)},
        )
    return chosen
