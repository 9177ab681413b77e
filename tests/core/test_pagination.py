"""Cursor pagination (API.md "Lists"), exercised through GET /v1/api-keys."""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from app.core.pagination import encode_cursor
from app.core.settings import Settings
from app.main import create_app
from tests.conftest import KeyFactory
from tests.support.databases import BoundDatabase
from tests.support.factories import apply, create_customer


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


# --- issue 9 §5: a tampered cursor is 422 invalid_cursor on every list, never a 500 ---


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _json_cursor(value: object) -> str:
    return _b64(json.dumps(value).encode())


def _list_paths() -> list[str]:
    """Every GET operation that takes a cursor, from the OpenAPI document: lists added
    later are tested without editing this file."""
    document = create_app(Settings()).openapi()
    return sorted(
        template
        for template, methods in document["paths"].items()
        for method, operation in methods.items()
        if method == "get" and any(p["name"] == "cursor" for p in operation.get("parameters", []))
    )


LIST_PATHS = _list_paths()


async def _webhook_endpoint_id(database: BoundDatabase) -> str:
    """A webhook endpoint stored directly: the API would check its URL's DNS."""
    from datetime import UTC, datetime

    from app.webhooks.models import WebhookEndpoint
    from app.webhooks.signing import new_secret

    now = datetime.now(UTC)
    async with database.sessionmaker() as session:
        session.add(
            WebhookEndpoint(
                id="whe_01KBQ7Z3M4N5P6Q7R8S9T0V1W2",
                url="https://crm.example.co.jp/hooks",
                events=["customer.created"],
                status="enabled",
                secret=new_secret(),
                created_at=now,
                updated_at=now,
            )
        )
        await session.commit()
    return "whe_01KBQ7Z3M4N5P6Q7R8S9T0V1W2"


REAL = encode_cursor(["cus_01M8ST6G7S62C2FVX1V1BX63R7"])
TAMPERED = [
    "!!!",
    "a",  # one base64 character cannot be decoded
    "%%%",
    *(REAL[:n] for n in (1, 5, 10, len(REAL) - 1)),  # truncated
    _b64(b"\xff\xfe\x00garbage"),  # base64 of bytes that are not UTF-8
    _b64(b"not json at all"),
    _json_cursor({"a": 1}),
    _json_cursor("cus_1"),
    _json_cursor(5),
    _json_cursor(None),
    _json_cursor([]),
    _json_cursor([5]),
    _json_cursor([None]),
    _json_cursor([True]),
    _json_cursor([[1]]),
    _json_cursor([{"id": "x"}]),
    _json_cursor(["x" * 300]),
    _json_cursor(["cus_\x00"]),
    _json_cursor(["\ud800"]),
    _json_cursor([5, "x"]),
    _json_cursor(["2026-01-01", 5]),
    _json_cursor(["2026-13-01", "pb_1"]),
    _json_cursor(["2026-01-01", "pb_\x00"]),
    _json_cursor([1e308, None]),
    _json_cursor(["a", "b", "c"]),
    _b64(b"[" * 150 + b"]" * 150),  # nested, within the 512-character limit
]


def test_every_list_is_found() -> None:
    assert len(LIST_PATHS) >= 8
    assert "/v1/contracts/{contract_id}/events" in LIST_PATHS


@pytest.mark.parametrize("template", LIST_PATHS)
async def test_issue_9_s5_a_tampered_cursor_is_422_invalid_cursor_on_every_list(
    client: httpx.AsyncClient, admin: dict[str, str], template: str, database: BoundDatabase
) -> None:
    customer = await create_customer(client, admin)
    contract = await apply(client, admin, customer["id"])
    path = template.format(
        contract_id=contract["id"],
        customer_id=customer["id"],
        endpoint_id=await _webhook_endpoint_id(database),
    )
    for cursor in TAMPERED:
        response = await client.get(path, params={"cursor": cursor}, headers=admin)
        assert response.status_code == 422, (cursor, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == "invalid_cursor", (cursor, response.text)


@pytest.mark.parametrize("template", LIST_PATHS)
async def test_issue_9_s5_the_cursor_a_list_gave_walks_on(
    client: httpx.AsyncClient, admin: dict[str, str], template: str, database: BoundDatabase
) -> None:
    """The checks refuse nothing the API itself wrote (text keys and dated keys)."""
    customer = await create_customer(client, admin)
    contract = await apply(client, admin, customer["id"])
    await create_customer(client, admin, name="株式会社二番目")
    path = template.format(
        contract_id=contract["id"],
        customer_id=customer["id"],
        endpoint_id=await _webhook_endpoint_id(database),
    )
    page = (await client.get(path, params={"limit": 1}, headers=admin)).json()
    if page["next_cursor"] is not None:
        response = await client.get(
            path, params={"limit": 1, "cursor": page["next_cursor"]}, headers=admin
        )
        assert response.status_code == 200, response.text
