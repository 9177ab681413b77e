"""Quotes over HTTP (API.md "Quotes"): DOMAIN.md §7 worked examples, priced from storage."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from app.core.clock import FixedClock
from app.core.settings import Settings
from app.main import create_app
from app.price_books.cache import price_books
from app.quotes.schemas import QuoteRead
from tests.conftest import KeyFactory
from tests.price_books.factories import price_book_body
from tests.support.databases import BoundDatabase

NO_OPTIONS = {"soc": False, "reserved_ip": False, "ad_integration": False}
EXAMPLE_A = {
    "plan": "foundation-essential",
    "license_ids": 50,
    "options": NO_OPTIONS,
    "onboarding_kind": "simple",
}
EXAMPLE_B = {
    "plan": "complete-advantage",
    "license_ids": 120,
    "options": {"soc": True, "reserved_ip": True, "ad_integration": True},
    "onboarding_kind": "standard",
}


async def _quote(client: httpx.AsyncClient, headers: dict[str, str], **body: Any) -> Any:
    response = await client.post("/v1/quotes", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_example_a_foundation_essential_50_ids_simple_onboarding(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    """DOMAIN §7 A: monthly 93,000; first invoice 643,000 + 64,300 tax = 707,300."""
    quote = await _quote(client, admin, **EXAMPLE_A)
    assert quote["monthly"]["total"] == 93_000
    lines = quote["monthly"]["lines"]
    assert [(line["item"], line["quantity"], line["amount"]) for line in lines] == [
        ("basic", 1, 50_000),
        ("foundation-essential", 5, 43_000),
    ]
    assert quote["one_time"]["total"] == 550_000
    assert quote["one_time"]["lines"][0]["item"] == "onboarding-simple"
    assert quote["first_invoice"] == {
        "taxable_subtotal": 643_000,
        "tax": 64_300,
        "non_taxable_subtotal": 0,
        "total": 707_300,
    }
    assert quote["price_book"] == {"id": "pbk_2026_04_24", "effective_from": "2026-04-24"}


async def test_example_a_first_year_is_one_time_plus_twelve_months_taxed_per_invoice(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    """550,000 + 12 × 93,000; tax 64,300 on the first invoice + 11 × 9,300 (R-CHG-4)."""
    quote = await _quote(client, admin, **EXAMPLE_A)
    assert quote["first_year"] == {"subtotal": 1_666_000, "tax": 166_600, "total": 1_832_600}


async def test_example_b_complete_advantage_120_ids_every_option_standard_onboarding(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    """DOMAIN §7 B: monthly 501,200; first invoice 1,851,200 + 185,120 = 2,036,320."""
    quote = await _quote(client, admin, **EXAMPLE_B)
    assert quote["monthly"]["total"] == 501_200
    monthly = {line["item"]: line for line in quote["monthly"]["lines"]}
    assert monthly["complete-advantage"]["quantity"] == 12
    assert monthly["soc-users"]["quantity"] == 12  # R-CAT-3: follows the licence.
    assert monthly["soc-base"]["amount"] == 100_000
    assert monthly["reserved-ip"]["amount"] == 80_000
    assert "ad-integration" not in monthly  # R-CHG-3: one-time, not monthly.
    assert [line["item"] for line in quote["one_time"]["lines"]] == [
        "onboarding-standard",
        "ad-integration",
    ]
    assert quote["one_time"]["total"] == 1_350_000
    assert quote["first_invoice"]["taxable_subtotal"] == 1_851_200
    assert quote["first_invoice"]["tax"] == 185_120
    assert quote["first_invoice"]["total"] == 2_036_320


async def test_example_g_25_ids_bill_three_units(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    """R-CAT-2 / DOMAIN §7 G: a plan line of 3 × 11,000 = 33,000; 83,000 a month."""
    body = EXAMPLE_A | {"plan": "foundation-advantage", "license_ids": 25}
    quote = await _quote(client, admin, **body)
    plan = quote["monthly"]["lines"][1]
    assert plan == {
        "item": "foundation-advantage",
        "description": plan["description"],
        "quantity": 3,
        "unit_price": 11_000,
        "amount": 33_000,
        "taxable": True,
    }
    assert quote["monthly"]["total"] == 83_000


async def test_options_may_be_left_out_and_default_to_none(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    body = {k: v for k, v in EXAMPLE_A.items() if k != "options"}
    assert (await _quote(client, admin, **body))["monthly"]["total"] == 93_000


@pytest.mark.parametrize("license_ids", [0, 1_000_001, -5, 2.5])
async def test_a_licence_quantity_outside_1_to_1_000_000_is_422_naming_r_cat_2(
    client: httpx.AsyncClient, admin: dict[str, str], license_ids: object
) -> None:
    response = await client.post(
        "/v1/quotes", json=EXAMPLE_A | {"license_ids": license_ids}, headers=admin
    )
    assert response.status_code == 422
    body = response.json()
    [error] = body["errors"]
    assert error["field"] == "license_ids"
    assert error["rule"] == "R-CAT-2"
    assert "R-CAT-2" in body["detail"]


async def test_the_licence_bounds_themselves_are_allowed(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    one = await _quote(client, admin, **(EXAMPLE_A | {"license_ids": 1}))
    assert one["monthly"]["lines"][1]["quantity"] == 1
    most = await _quote(client, admin, **(EXAMPLE_A | {"license_ids": 1_000_000}))
    assert most["monthly"]["lines"][1]["quantity"] == 100_000


@pytest.mark.parametrize(
    ("change", "field", "rule"),
    [
        ({"plan": "platinum"}, "plan", "R-CAT-1"),
        ({"onboarding_kind": "deluxe"}, "onboarding_kind", "R-CAT-1"),
        ({"options": {"soc": True, "firewall": True}}, "options.firewall", "R-CAT-1"),
        ({"options": {"soc": "maybe"}}, "options.soc", "R-CAT-1"),
        ({"on": "2026-13-01"}, "on", None),
        ({"discount": 10}, "discount", None),
    ],
)
async def test_invalid_choices_are_422_with_the_field_path(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    change: dict[str, Any],
    field: str,
    rule: str | None,
) -> None:
    response = await client.post("/v1/quotes", json=EXAMPLE_A | change, headers=admin)
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"] == field
    assert error.get("rule") == rule


async def test_a_missing_plan_is_422(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    body = {k: v for k, v in EXAMPLE_A.items() if k != "plan"}
    response = await client.post("/v1/quotes", json=body, headers=admin)
    assert response.status_code == 422
    assert response.json()["errors"][0] == {
        "field": "plan",
        "in": "body",
        "message": "is required",  # issue 9 §6: plain words
        "type": "missing",
        "rule": "R-CAT-1",
    }


async def test_on_picks_the_price_book_version_in_effect_that_day(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    """R-CAT-4: prices change from a new version's month on; earlier dates keep the old."""
    created = await client.post(
        "/v1/price-books",
        json=price_book_body("2027-01-01", basic=60_000, onboarding_simple=600_000),
        headers=admin,
    )
    assert created.status_code == 201
    before = await _quote(client, admin, **(EXAMPLE_A | {"on": "2026-12-31"}))
    after = await _quote(client, admin, **(EXAMPLE_A | {"on": "2027-01-01"}))
    assert before["monthly"]["total"] == 93_000
    assert before["one_time"]["total"] == 550_000
    assert before["price_book"]["id"] == "pbk_2026_04_24"
    assert after["monthly"]["total"] == 103_000
    assert after["one_time"]["total"] == 600_000
    assert after["price_book"] == {"id": created.json()["id"], "effective_from": "2027-01-01"}
    assert after["on"] == "2027-01-01"


async def test_on_defaults_to_today_in_tokyo(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await client.post(
        "/v1/price-books", json=price_book_body("2026-11-01", basic=70_000), headers=admin
    )
    quote = await _quote(client, admin, **EXAMPLE_A)
    assert quote["on"] == "2026-11-24"  # the test clock
    assert quote["monthly"]["lines"][0]["unit_price"] == 70_000


async def test_a_date_before_every_version_uses_the_earliest(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    quote = await _quote(client, admin, **(EXAMPLE_A | {"on": "2020-01-01"}))
    assert quote["price_book"]["id"] == "pbk_2026_04_24"


@pytest.mark.parametrize("role", ["operator", "crm", "portal"])
async def test_staff_crm_and_portal_keys_may_quote(
    client: httpx.AsyncClient, make_key: KeyFactory, role: str
) -> None:
    headers = await make_key(role, customer_id="cus_1" if role == "portal" else None)
    assert (await _quote(client, headers, **EXAMPLE_A))["monthly"]["total"] == 93_000


async def test_partner_keys_may_not_quote(client: httpx.AsyncClient, make_key: KeyFactory) -> None:
    response = await client.post("/v1/quotes", json=EXAMPLE_A, headers=await make_key("partner"))
    assert response.status_code == 403


async def test_quoting_needs_a_key(client: httpx.AsyncClient) -> None:
    assert (await client.post("/v1/quotes", json=EXAMPLE_A)).status_code == 401


async def test_issue_11_a_quote_trusts_the_books_checked_within_the_bound(
    settings: Settings, database: BoundDatabase, clock: FixedClock, admin: dict[str, str]
) -> None:
    """SCMS_PRICE_BOOK_CHECK_SECONDS: a quote prices without a query with the books
    checked at most that long ago; a version added is priced once the bound has passed."""
    price_books.clear()
    app = create_app(
        settings.model_copy(update={"price_book_check_seconds": 0.5}),
        database=database,
        clock=clock,
    )
    transport = httpx.ASGITransport(app=app)
    body = {**EXAMPLE_A, "on": "2027-04-01"}
    async with httpx.AsyncClient(transport=transport, base_url="http://scms.test") as client:
        before = await client.post("/v1/quotes", json=body, headers=admin)
        added = await client.post(
            "/v1/price-books", json=price_book_body("2027-04-01", basic=60_000), headers=admin
        )
        assert added.status_code == 201, added.text
        within = await client.post("/v1/quotes", json=body, headers=admin)
        await asyncio.sleep(0.6)
        after = await client.post("/v1/quotes", json=body, headers=admin)
    price_books.clear()

    def basic(response: httpx.Response) -> int:
        assert response.status_code == 200, response.text
        return int(response.json()["monthly"]["lines"][0]["unit_price"])

    assert (basic(before), basic(within), basic(after)) == (50_000, 50_000, 60_000)


async def test_a_kept_quote_is_the_quote_of_its_version_and_values_r_cat_4(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    """Quotes are kept by the price book version and the request's values (issue 11): the
    same question answers the same JSON, another option or a new version's month another
    quote, and every answer is QuoteRead's own JSON."""
    first = await _quote(client, admin, **(EXAMPLE_A | {"on": "2027-01-15"}))
    assert await _quote(client, admin, **(EXAMPLE_A | {"on": "2027-01-15"})) == first
    assert QuoteRead.model_validate(first).model_dump(mode="json") == first
    with_soc = await _quote(
        client, admin, **(EXAMPLE_A | {"on": "2027-01-15", "options": NO_OPTIONS | {"soc": True}})
    )
    assert with_soc["monthly"]["total"] > first["monthly"]["total"]
    created = await client.post(
        "/v1/price-books", json=price_book_body("2027-01-01", basic=60_000), headers=admin
    )
    assert created.status_code == 201
    price_books.clear()  # as a new version is seen within SCMS_PRICE_BOOK_CHECK_SECONDS
    repriced = await _quote(client, admin, **(EXAMPLE_A | {"on": "2027-01-15"}))
    assert repriced["price_book"]["id"] == created.json()["id"]
    assert repriced["monthly"]["total"] == first["monthly"]["total"] + 10_000


async def test_a_body_nested_too_deep_to_decode_is_a_422_problem_not_a_500(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    response = await client.post(
        "/v1/quotes", content=deep, headers=admin | {"content-type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["type"] for e in response.json()["errors"]] == ["json_invalid"]
