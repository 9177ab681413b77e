"""issue 9 §3 and §4: a quote answers "what if" for any date of the business window,
past or future, and refuses a date outside it (today 2026-11-24: 2000-01-01 … 2031-12-31).
"""

from __future__ import annotations

import httpx
import pytest

from tests.price_books.factories import price_book_body
from tests.support.bounds import LAST_ALLOWED, OUT_OF_WINDOW, out_of_range, post_raw, with_raw

Headers = dict[str, str]
EXAMPLE_A = {"plan": "foundation-essential", "license_ids": 50, "onboarding_kind": "simple"}


async def test_issue_9_s3_a_quote_on_a_future_date_uses_that_dates_price_book(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    """ "If we sign next spring": the version in effect then prices the quote (R-CAT-4)."""
    added = await client.post(
        "/v1/price-books", json=price_book_body("2027-04-01", basic=60_000), headers=admin
    )
    assert added.status_code == 201, added.text
    for on, basic in (("2027-03-31", 50_000), ("2027-04-01", 60_000), (LAST_ALLOWED, 60_000)):
        response = await client.post("/v1/quotes", json={**EXAMPLE_A, "on": on}, headers=admin)
        assert response.status_code == 200, response.text
        quote = response.json()
        assert quote["on"] == on
        assert quote["monthly"]["lines"][0] == {
            "item": "basic",
            "description": quote["monthly"]["lines"][0]["description"],
            "quantity": 1,
            "unit_price": basic,
            "amount": basic,
            "taxable": True,
        }


@pytest.mark.parametrize("on", OUT_OF_WINDOW)
async def test_issue_9_s4_a_quote_outside_the_window_is_refused(
    client: httpx.AsyncClient, admin: Headers, on: str
) -> None:
    response = await client.post("/v1/quotes", json={**EXAMPLE_A, "on": on}, headers=admin)
    out_of_range(response, "on")


@pytest.mark.parametrize("license_ids", ["50.0", "5e1", '"50"'])
async def test_issue_9_s4_a_quote_counts_licence_ids_in_json_integers(
    client: httpx.AsyncClient, admin: Headers, license_ids: str
) -> None:
    body = with_raw(EXAMPLE_A, "license_ids", license_ids)
    response = await post_raw(client, "/v1/quotes", admin, body)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "license_ids"
