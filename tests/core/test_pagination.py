"""Cursor pagination (API.md "Lists"), exercised through GET /v1/api-keys."""

from __future__ import annotations

import httpx

from tests.conftest import KeyFactory


async def test_pages_walk_every_item_once_newest_first(
    client: httpx.AsyncClient, admin: dict[str, str], make_key: KeyFactory
) -> None:
    for _ in range(6):
        await make_key("operator")
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/v1/api-keys", params=params, headers=admin)).json()
        assert len(page["items"]) <= 3
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 7
    assert seen == sorted(seen, reverse=True)


async def test_limit_outside_1_to_200_is_refused(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    for limit in (0, 201):
        response = await client.get("/v1/api-keys", params={"limit": limit}, headers=admin)
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "limit"


async def test_a_forged_cursor_is_a_clear_422(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    for cursor in ("!!!", "eyJhIjoxfQ"):
        response = await client.get("/v1/api-keys", params={"cursor": cursor}, headers=admin)
        assert response.status_code == 422
        assert response.json()["code"] == "invalid_cursor"
