"""issue 9 §4: a price book version starts inside the business window and prices in
whole yen; a refused version is not stored."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.price_books.models import PriceBookVersion
from tests.price_books.factories import price_book_body
from tests.support.bounds import out_of_range, post_raw, with_raw

Headers = dict[str, str]


async def _count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(PriceBookVersion)) or 0)


@pytest.mark.parametrize("effective_from", ["0001-01-01", "1999-12-01", "2032-01-01", "9999-12-01"])
async def test_issue_9_s4_a_version_outside_the_window_is_refused(
    client: httpx.AsyncClient, admin: Headers, session: AsyncSession, effective_from: str
) -> None:
    before = await _count(session)
    response = await client.post(
        "/v1/price-books", json=price_book_body(effective_from), headers=admin
    )
    out_of_range(response, "effective_from")
    assert await _count(session) == before


async def test_issue_9_s4_the_first_month_of_the_window_may_start_a_version(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    """Before any invoice, back-dating is allowed (R-CAT-4), down to 2000-01-01."""
    response = await client.post(
        "/v1/price-books", json=price_book_body("2000-01-01"), headers=admin
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("price", ["50000.0", "5e4", '"50000"'])
async def test_issue_9_s4_unit_prices_are_json_integers(
    client: httpx.AsyncClient, admin: Headers, session: AsyncSession, price: str
) -> None:
    body = with_raw(price_book_body("2027-01-01"), "items.basic", price)
    before = await _count(session)
    response = await post_raw(client, "/v1/price-books", admin, body)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "items.basic"
    assert await _count(session) == before
