"""Realistic examples for the OpenAPI document (issue 9 §6), by schema name.

Kept in one place, not spread over the schema modules, so the examples read as one story:
株式会社サンプル商事 applies in November 2026 for 120 IDs, onboards, and is billed from
January 2027. tests/core/test_openapi_document.py validates every example against its own
model, so an example that stops being accepted fails the suite.
"""

from __future__ import annotations

from typing import Any

_ADMINS = [
    {"name": "山田 太郎", "email": "t.yamada@sample-shoji.co.jp", "phone": "03-1234-5678"},
    {"name": "佐藤 花子", "email": "h.sato@sample-shoji.co.jp", "phone": "03-1234-5679"},
]

REQUEST_EXAMPLES: dict[str, list[dict[str, Any]]] = {
    "ApiKeyCreate": [
        {"name": "Salesforce 連携", "role": "crm"},
        {
            "name": "サンプル商事 ポータル",
            "role": "portal",
            "customer_id": "cus_01KBQ7Z3M4N5P6Q7R8S9T0V1W2",
        },
    ],
    "PriceBookCreate": [
        {
            "effective_from": "2027-04-01",
            "items": {
                "basic": 50_000,
                "foundation-essential": 8_600,
                "foundation-advantage": 11_000,
                "complete-essential": 13_600,
                "complete-advantage": 21_600,
                "soc-base": 100_000,
                "soc-users": 1_000,
                "reserved-ip": 80_000,
                "onboarding-simple": 550_000,
                "onboarding-standard": 1_000_000,
                "ad-integration": 350_000,
            },
            "tax_rate_percent": "10",
            "late_payment_rate_percent": "14.5",
        }
    ],
    "QuoteCreate": [
        {
            "plan": "complete-advantage",
            "license_ids": 120,
            "options": {"soc": True, "reserved_ip": False, "ad_integration": True},
            "onboarding_kind": "standard",
            "on": "2026-12-01",
        }
    ],
    "CustomerCreate": [
        {
            "name": "株式会社サンプル商事",
            "billing_name": "株式会社サンプル商事 経理部",
            "email": "keiri@sample-shoji.co.jp",
            "phone": "03-1234-5678",
            "postal_address": "〒100-0005 東京都千代田区丸の内1-1-1",
            "external_ref": "SF-0012345",
            "corporate_number": "7123456789012",
            "registration_number": "T7123456789012",
        }
    ],
    "CustomerUpdate": [{"billing_name": "株式会社サンプル商事 財務経理部", "phone": None}],
    "ApplicationCreate": [
        {
            "customer_id": "cus_01KBQ7Z3M4N5P6Q7R8S9T0V1W2",
            "plan": "complete-advantage",
            "license_ids": 120,
            "options": {"soc": True, "reserved_ip": False, "ad_integration": False},
            "onboarding_kind": "standard",
            "received_on": "2026-11-20",
            "planned_installation_on": "2026-12-15",
            "administrators": _ADMINS,
        }
    ],
    "AcceptRequest": [
        {},
        {"out_of_order_reason": "先行申込の与信確認待ちのため、部長承認により先に承諾する。"},
    ],
    "RejectRequest": [
        {
            "reason": "technically_infeasible",
            "notice": "ご指定の設置環境では本サービスを提供できないため、"
            "お申込みをお断りいたします。",
            "rejected_on": "2026-11-24",
        }
    ],
    "WithdrawRequest": [{"withdrawn_on": "2026-11-24", "reason": "社内稟議が否決されたため。"}],
    "OnboardingStart": [
        {"started_on": "2026-12-01"},
        {"started_on": "2026-12-01", "performed_by": "partner"},
    ],
    "SocReportCreate": [
        {
            "contract_id": "ctr_01KBQ80A1B2C3D4E5F6G7H8J9K",
            "period_start": "2027-01-01",
            "period_end": "2027-01-31",
            "status": "normal",
            "incident_count": 0,
            "summary": "重大な検知なし。不審なサインイン 3 件を調査し、いずれも誤検知と判定。",
        },
        {
            "contract_id": "ctr_01KBQ80A1B2C3D4E5F6G7H8J9K",
            "period_start": "2027-01-01",
            "period_end": "2027-01-31",
            "status": "incident",
            "incident_count": 1,
            "summary": "1 月 18 日のマルウェア検知 1 件を追記（隔離済み）。",
            "supersedes_id": "soc_01KBQ9A1B2C3D4E5F6G7H8J9K0",
        },
    ],
    "MilestoneDone": [{"done_on": "2026-12-08"}],
    "InspectionCreate": [
        {"inspected_on": "2026-12-20", "result": "accepted", "certificate_on": "2026-12-21"},
        {
            "inspected_on": "2026-12-18",
            "result": "nonconforming",
            "defects": ["AD 連携の同期が 1 日 1 回しか実行されない"],
        },
    ],
    "OnboardingComplete": [{"completed_on": "2026-12-21"}],
    "LicenceChangeCreate": [
        {"license_ids": 150, "effective_on": "2027-02-01"},
        {"license_ids": 60, "effective_on": "2027-06-10", "notice_on": "2027-03-01"},
    ],
    "OptionAdd": [{"option": "reserved_ip", "effective_on": "2027-02-01"}],
    "OptionRemoval": [{"option": "soc", "notice_on": "2027-01-15", "effective_on": "2027-04-30"}],
    "TerminationCreate": [
        {"reason": "contractor_request", "notice_on": "2027-01-15", "effective_on": "2027-04-30"}
    ],
    "CancellationCreate": [
        {
            "cancelled_on": "2026-12-05",
            "contractor_at_fault": True,
            "actual_costs": [{"description": "初期設定作業 (12月1日〜4日)", "amount": 180_000}],
        }
    ],
    "PlanChangeCreate": [
        {
            "plan": "foundation-advantage",
            "notice_on": "2027-03-01",
            "effective_on": "2027-05-31",
            "received_on": "2027-03-01",
            "planned_installation_on": "2027-06-01",
        }
    ],
    "SuspensionCreate": [
        {"starts_on": "2027-02-10", "ends_on": "2027-02-12", "reason": "maintenance"}
    ],
    "SuspensionEnd": [{"ends_on": "2027-02-14"}],
    "AdHocChargeCreate": [
        {
            "kind": "work",
            "description": "オンサイト障害対応 (2027年1月18日)",
            "amount": 45_000,
            "month": "2027-01",
        }
    ],
    "BillingRunCreate": [{"month": "2026-12"}, {"month": "2026-12", "dry_run": True}],
    "PaymentCreate": [
        {"paid_on": "2027-01-29", "amount": 1_402_060, "reference": "振込 ｻﾝﾌﾟﾙｼﾖｳｼﾞ 0129"}
    ],
    "VoidRequest": [{"reason": "請求先名の誤りのため取り消し、再発行する。"}],
    "CreditNoteCreate": [
        {
            "reason": "1月分サービス停止 (2日間) の返金",
            "lines": [{"description": "サービス停止に伴う減額", "amount": 23_000, "taxable": True}],
        }
    ],
    "SandboxClockMove": [{"today": "2028-01-02"}],
}

RESPONSE_EXAMPLES: dict[str, list[dict[str, Any]]] = {
    "CustomerRead": [
        {
            "id": "cus_01KBQ7Z3M4N5P6Q7R8S9T0V1W2",
            "name": "株式会社サンプル商事",
            "billing_name": "株式会社サンプル商事 経理部",
            "email": "keiri@sample-shoji.co.jp",
            "phone": "03-1234-5678",
            "postal_address": "〒100-0005 東京都千代田区丸の内1-1-1",
            "external_ref": "SF-0012345",
            "corporate_number": "7123456789012",
            "registration_number": "T7123456789012",
            "peppol_id": "0188:7123456789012",
            "version": 1,
            "created_at": "2026-11-20T10:15:00+09:00",
            "updated_at": "2026-11-20T10:15:00+09:00",
        }
    ],
    "LicenceChangeRead": [
        {
            "id": "lch_01KDZ3B5D7F9H1K3N5Q7S9V1X3",
            "effective_on": "2027-06-10",
            "license_ids": 60,
            "previous_license_ids": 120,
            "notice_on": "2027-03-01",
            "early_termination_charge": 678_000,
        }
    ],
    "SuspensionRead": [
        {
            "id": "sus_01KEA4C6E8G0J2M4P6R8T0V2X4",
            "starts_on": "2027-02-10",
            "ends_on": "2027-02-12",
            "reason": "maintenance",
        }
    ],
    "ChargeRead": [
        {
            "id": "chg_01KE5R7T9V1X3Z5B7D9F1H3K5M",
            "kind": "work",
            "item": "work",
            "description": "オンサイト障害対応 (2027年1月18日)",
            "quantity": 1,
            "unit_price": 45_000,
            "amount": 45_000,
            "taxable": True,
            "month": "2027-01",
            "rule": "R-CHG-9",
            "invoice_id": None,
            "created_at": "2027-01-19T14:02:11+09:00",
        }
    ],
    "PaymentRead": [
        {
            "id": "pay_01KG2N4Q6S8V0X2Z4B6D8F0H2K",
            "invoice_id": "inv_01KF8M0P2R4T6V8X0Z2B4D6F8H",
            "paid_on": "2027-01-29",
            "amount": 1_402_060,
            "reference": "振込 ｻﾝﾌﾟﾙｼﾖｳｼﾞ 0129",
        }
    ],
    "ApiKeyRead": [
        {
            "id": "key_01KBQ6X1Y2Z3A4B5C6D7E8F9G0",
            "name": "Salesforce 連携",
            "role": "crm",
            "customer_id": None,
            "key_prefix": "scms_4f9c",
            "created_at": "2026-11-20T09:00:00+09:00",
            "revoked_at": None,
        }
    ],
}


def apply_examples(schemas: dict[str, Any]) -> None:
    """Set each named schema's ``examples`` (the schema must exist: a rename fails loudly)."""
    for name, examples in {**REQUEST_EXAMPLES, **RESPONSE_EXAMPLES}.items():
        schemas[name]["examples"] = examples
