"""Price books over HTTP (R-CAT-4, API.md "Price books"): read by staff, added by admins."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditRecord
from app.price_books.dependencies import invoiced_through
from app.price_books.models import PriceBookVersion
from app.price_books.service import load_price_books
from app.pricing.calendar import Month
from app.pricing.price_book import DEFAULT_TAXABLE_KINDS, INITIAL_PRICE_BOOK
from tests.conftest import KeyFactory
from tests.price_books.factories import DOMAIN_PRICES, price_book_body

INITIAL_ID = "pbk_2026_04_24"


async def _count(session: AsyncSession) -> int:
    return (await session.scalar(select(func.count()).select_from(PriceBookVersion))) or 0


async def test_migration_installed_the_2026_04_24_version_exactly(
    client: httpx.AsyncClient, admin: dict[str, str], session: AsyncSession
) -> None:
    """R-CAT-4: the catalogue of DOMAIN.md §1, 10 % tax and 14.5 % late payment."""
    response = await client.get(f"/v1/price-books/{INITIAL_ID}", headers=admin)
    assert response.status_code == 200
    body = response.json()
    assert body["effective_from"] == "2026-04-24"
    assert body["items"] == DOMAIN_PRICES
    assert body["tax_rate_percent"] == "10"
    assert body["late_payment_rate_percent"] == "14.5"
    assert set(body["taxable_kinds"]) == set(DEFAULT_TAXABLE_KINDS)
    assert "early-termination" not in body["taxable_kinds"]
    assert "late-payment" not in body["taxable_kinds"]
    books = await load_price_books(session)
    assert books.versions == (INITIAL_PRICE_BOOK,)


async def test_admin_adds_a_version_from_the_first_day_of_a_month(
    client: httpx.AsyncClient, admin: dict[str, str], session: AsyncSession
) -> None:
    response = await client.post(
        "/v1/price-books", json=price_book_body("2027-01-01", basic=60_000), headers=admin
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["id"].startswith("pbk_")
    assert body["effective_from"] == "2027-01-01"
    assert body["items"]["basic"] == 60_000
    assert body["created_at"].endswith(("+00:00", "Z"))
    stored = await session.get(PriceBookVersion, body["id"])
    assert stored is not None
    assert stored.created_by is not None
    assert stored.created_by.startswith("key_")
    fetched = await client.get(f"/v1/price-books/{body['id']}", headers=admin)
    assert fetched.json() == body


async def test_a_version_not_starting_on_a_first_of_month_is_422_with_the_next_allowed_day(
    client: httpx.AsyncClient, admin: dict[str, str], session: AsyncSession
) -> None:
    """R-CAT-4: versions start on a month's first day."""
    response = await client.post(
        "/v1/price-books", json=price_book_body("2027-01-15"), headers=admin
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "price_book_not_month_start"
    assert body["rule"] == "R-CAT-4"
    assert body["next_allowed_effective_from"] == "2027-02-01"
    assert await _count(session) == 1


async def test_a_second_version_on_the_same_day_is_409_naming_the_existing_one(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    """R-CAT-4: existing versions never change; there is one version per day."""
    first = await client.post("/v1/price-books", json=price_book_body("2027-01-01"), headers=admin)
    again = await client.post(
        "/v1/price-books", json=price_book_body("2027-01-01", basic=1), headers=admin
    )
    assert again.status_code == 409
    body = again.json()
    assert body["code"] == "price_book_exists"
    assert body["rule"] == "R-CAT-4"
    assert body["existing_id"] == first.json()["id"]


async def test_a_month_already_invoiced_is_409_and_nothing_is_stored(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str], session: AsyncSession
) -> None:
    """The router takes the invoiced month from InvoicedThroughDep (invoicing overrides it)."""
    app.dependency_overrides[invoiced_through] = lambda: Month(2026, 12)
    response = await client.post(
        "/v1/price-books", json=price_book_body("2026-12-01"), headers=admin
    )
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "price_book_month_invoiced"
    assert body["invoiced_through"] == "2026-12"
    assert body["next_allowed_effective_from"] == "2027-01-01"
    assert await _count(session) == 1
    later = await client.post("/v1/price-books", json=price_book_body("2027-01-01"), headers=admin)
    assert later.status_code == 201


async def test_missing_and_unknown_item_codes_are_422_listing_them(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    """R-CAT-4: a version prices exactly the whole catalogue."""
    body = price_book_body("2027-01-01")
    del body["items"]["basic"]
    del body["items"]["soc-users"]
    body["items"]["gold-plan"] = 1
    response = await client.post("/v1/price-books", json=body, headers=admin)
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "invalid_price_book"
    assert problem["rule"] == "R-CAT-4"
    assert problem["missing"] == ["basic", "soc-users"]
    assert problem["unknown"] == ["gold-plan"]


@pytest.mark.parametrize("price", [-1, 1.5, "lots", 1_000_000_001])
async def test_a_price_that_is_not_whole_non_negative_yen_is_422(
    client: httpx.AsyncClient, admin: dict[str, str], price: object
) -> None:
    body = price_book_body("2027-01-01")
    body["items"]["basic"] = price
    response = await client.post("/v1/price-books", json=body, headers=admin)
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"] == "items.basic"
    assert error["rule"] == "R-CAT-4"


@pytest.mark.parametrize(
    ("sent", "shown"),
    [("14.5", "14.5"), (14.5, "14.5"), (10.1, "10.1"), ("8.75", "8.75"), (10, "10")],
)
async def test_rates_are_exact_decimals_whether_sent_as_numbers_or_strings(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    session: AsyncSession,
    sent: object,
    shown: str,
) -> None:
    body = price_book_body("2027-01-01")
    body["late_payment_rate_percent"] = sent
    response = await client.post("/v1/price-books", json=body, headers=admin)
    assert response.status_code == 201, response.text
    assert response.json()["late_payment_rate_percent"] == shown
    books = await load_price_books(session)
    assert books.for_date(date(2027, 1, 1)).late_payment_rate_percent == Decimal(shown)


@pytest.mark.parametrize("rate", [-1, "100.01", "abc", "1.23456", True])
async def test_a_rate_outside_0_to_100_percent_or_not_a_decimal_is_422(
    client: httpx.AsyncClient, admin: dict[str, str], rate: object
) -> None:
    body = price_book_body("2027-01-01")
    body["tax_rate_percent"] = rate
    response = await client.post("/v1/price-books", json=body, headers=admin)
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"] == "tax_rate_percent"
    assert error["rule"] == "R-CAT-4"


async def test_taxable_kinds_default_to_r_chg_4_and_may_be_given(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    """R-CHG-4: which kinds are taxable is price-book data (a tax ruling is a data change)."""
    default = await client.post(
        "/v1/price-books", json=price_book_body("2027-01-01"), headers=admin
    )
    assert set(default.json()["taxable_kinds"]) == set(DEFAULT_TAXABLE_KINDS)
    body = price_book_body("2027-02-01") | {"taxable_kinds": ["monthly", "one-time"]}
    given = await client.post("/v1/price-books", json=body, headers=admin)
    assert given.json()["taxable_kinds"] == ["monthly", "one-time"]
    bad = price_book_body("2027-03-01") | {"taxable_kinds": ["vat-free-lunch"]}
    refused = await client.post("/v1/price-books", json=bad, headers=admin)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["rule"] == "R-CHG-4"


async def test_unknown_fields_and_a_missing_date_are_422_naming_the_fields(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    body = price_book_body("2027-01-01") | {"discount": 5}
    del body["effective_from"]
    response = await client.post("/v1/price-books", json=body, headers=admin)
    assert response.status_code == 422
    errors = {e["field"]: e for e in response.json()["errors"]}
    assert set(errors) == {"effective_from", "discount"}
    assert errors["effective_from"]["rule"] == "R-CAT-4"
    assert "R-CAT-4" in response.json()["detail"]


@pytest.mark.parametrize("role", ["operator", "crm", "partner", "portal"])
async def test_only_admin_keys_add_versions(
    client: httpx.AsyncClient, make_key: KeyFactory, role: str
) -> None:
    headers = await make_key(role, customer_id="cus_1" if role == "portal" else None)
    response = await client.post(
        "/v1/price-books", json=price_book_body("2027-01-01"), headers=headers
    )
    assert response.status_code == 403
    assert response.json()["allowed_roles"] == ["admin"]


async def test_every_price_book_route_needs_a_key(client: httpx.AsyncClient) -> None:
    assert (await client.get("/v1/price-books")).status_code == 401
    assert (await client.get(f"/v1/price-books/{INITIAL_ID}")).status_code == 401
    created = await client.post("/v1/price-books", json=price_book_body("2027-01-01"))
    assert created.status_code == 401


@pytest.mark.parametrize(("role", "status"), [("operator", 200), ("crm", 200), ("partner", 403)])
async def test_operators_and_crm_read_price_books_partners_do_not(
    client: httpx.AsyncClient, make_key: KeyFactory, role: str, status: int
) -> None:
    headers = await make_key(role)
    assert (await client.get("/v1/price-books", headers=headers)).status_code == status
    one = await client.get(f"/v1/price-books/{INITIAL_ID}", headers=headers)
    assert one.status_code == status


async def test_portal_keys_do_not_read_price_books(
    client: httpx.AsyncClient, make_key: KeyFactory
) -> None:
    headers = await make_key("portal", customer_id="cus_1")
    response = await client.get("/v1/price-books", headers=headers)
    assert response.status_code == 403
    assert response.json()["allowed_roles"] == ["admin", "crm", "operator"]


async def test_unknown_version_is_404(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    response = await client.get("/v1/price-books/pbk_missing", headers=admin)
    assert response.status_code == 404
    assert response.json()["code"] == "price_book_not_found"


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
async def test_versions_can_never_be_changed_or_removed(
    client: httpx.AsyncClient, admin: dict[str, str], method: str
) -> None:
    """R-CAT-4: history is not rewritten; a change is a new version."""
    path = f"/v1/price-books/{INITIAL_ID}"
    response = await client.request(method, path, json=price_book_body("2027-01-01"), headers=admin)
    assert response.status_code == 405


async def test_list_is_newest_effective_from_first_and_pages_by_cursor(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    # Created out of order: the list follows effective_from, not creation.
    for day in ["2027-03-01", "2027-01-01", "2027-02-01"]:
        created = await client.post("/v1/price-books", json=price_book_body(day), headers=admin)
        assert created.status_code == 201
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/v1/price-books", params=params, headers=admin)).json()
        seen.extend(item["effective_from"] for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["2027-03-01", "2027-02-01", "2027-01-01", "2026-04-24"]


async def test_a_tampered_cursor_is_422_not_500(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    import base64

    cursor = base64.urlsafe_b64encode(b'["not-a-date","x"]').decode().rstrip("=")
    response = await client.get("/v1/price-books", params={"cursor": cursor}, headers=admin)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_cursor"


async def test_a_new_version_is_in_the_operation_log(
    client: httpx.AsyncClient, admin: dict[str, str], session: AsyncSession
) -> None:
    """R-PTN-2: the change, who made it and the values it brought."""
    created = await client.post(
        "/v1/price-books", json=price_book_body("2027-01-01", basic=55_000), headers=admin
    )
    assert created.status_code == 201, created.text
    record = (
        await session.scalars(
            select(AuditRecord).where(AuditRecord.resource_id == created.json()["id"])
        )
    ).one()
    assert record.action == "price_books.create"
    assert record.before is None
    assert record.after is not None
    assert record.after["prices"]["basic"] == 55_000
    assert record.actor_key_id.startswith("key_")
