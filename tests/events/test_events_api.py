"""GET /v1/events and GET /v1/events/{id} (issue 12 §2): newest first, by type and since,
paged; admin, operator and crm keys read all, a portal key its own customer's only."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from app.auth.roles import Role
from app.core.clock import TOKYO, FixedClock
from tests.conftest import KeyFactory
from tests.events.support import Headers, get, stored
from tests.support.databases import BoundDatabase
from tests.support.factories import create_customer


async def _two_customers(
    client: httpx.AsyncClient, admin: Headers, clock: FixedClock
) -> tuple[str, str]:
    first = await create_customer(client, admin, name="一番")
    clock.instant += timedelta(minutes=5)
    second = await create_customer(client, admin, name="二番")
    response = await client.patch(
        f"/v1/customers/{first['id']}", json={"phone": "03-1111-2222"}, headers=admin
    )
    assert response.status_code == 200, response.text
    return first["id"], second["id"]


@pytest.mark.parametrize("role", [Role.ADMIN, Role.OPERATOR, Role.CRM])
async def test_staff_keys_list_every_event_newest_first(
    client: httpx.AsyncClient,
    admin: Headers,
    make_key: KeyFactory,
    clock: FixedClock,
    database: BoundDatabase,
    role: Role,
) -> None:
    first, second = await _two_customers(client, admin, clock)
    body = await get(client, "/v1/events", await make_key(role))
    assert [(e["type"], e["data"]["id"]) for e in body["items"][:3]] == [
        ("customer.updated", first),
        ("customer.created", second),
        ("customer.created", first),
    ]
    newest = body["items"][0]
    assert set(newest) == {"id", "type", "timestamp", "data"}
    (stored_event,) = await stored(database, first, "customer.updated")
    assert newest["id"] == stored_event.id
    assert newest["data"] == stored_event.data
    assert newest["timestamp"] == clock.now().isoformat().replace("+00:00", "Z")


async def test_the_list_filters_by_type_and_since_and_pages_with_the_cursor(
    client: httpx.AsyncClient, admin: Headers, clock: FixedClock
) -> None:
    start = clock.now()
    first, second = await _two_customers(client, admin, clock)
    created = await get(client, "/v1/events?type=customer.created", admin)
    assert [e["data"]["id"] for e in created["items"]] == [second, first]
    later = (start + timedelta(minutes=1)).isoformat()
    since = await client.get("/v1/events", params={"since": later}, headers=admin)
    assert since.status_code == 200, since.text
    assert [(e["type"], e["data"]["id"]) for e in since.json()["items"]] == [
        ("customer.updated", first),
        ("customer.created", second),
    ]
    # The same instant in Tokyo time is the same filter.
    tokyo = (start + timedelta(minutes=1)).astimezone(TOKYO)
    again = await client.get("/v1/events", params={"since": tokyo.isoformat()}, headers=admin)
    assert again.json()["items"] == since.json()["items"]
    # One at a time, every event once, then no cursor.
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": 1, "type": "customer.created"}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/v1/events", params=params, headers=admin)).json()
        seen += [e["data"]["id"] for e in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [second, first]


async def test_one_event_reads_as_listed(client: httpx.AsyncClient, admin: Headers) -> None:
    await create_customer(client, admin)
    listed = (await get(client, "/v1/events", admin))["items"][0]
    assert await get(client, f"/v1/events/{listed['id']}", admin) == listed
    missing = await client.get("/v1/events/evt_nothing", headers=admin)
    assert missing.status_code == 404, missing.text
    assert missing.json()["code"] == "event_not_found"


async def test_a_portal_key_sees_its_own_customers_events_only(
    client: httpx.AsyncClient, admin: Headers, make_key: KeyFactory, clock: FixedClock
) -> None:
    first, second = await _two_customers(client, admin, clock)
    portal = await make_key(Role.PORTAL, customer_id=first)
    body = await get(client, "/v1/events", portal)
    assert [(e["type"], e["data"]["id"]) for e in body["items"]] == [
        ("customer.updated", first),
        ("customer.created", first),
    ]
    everything = (await get(client, "/v1/events?limit=200", admin))["items"]
    (theirs,) = [e for e in everything if e["data"]["id"] == second]
    hidden = await client.get(f"/v1/events/{theirs['id']}", headers=portal)
    assert hidden.status_code == 404, hidden.text
    own = body["items"][0]
    assert await get(client, f"/v1/events/{own['id']}", portal) == own


async def test_a_partner_key_may_not_read_events(
    client: httpx.AsyncClient, make_key: KeyFactory
) -> None:
    partner = await make_key(Role.PARTNER)
    assert (await client.get("/v1/events", headers=partner)).status_code == 403
    assert (await client.get("/v1/events/evt_x", headers=partner)).status_code == 403
    assert (await client.get("/v1/events")).status_code == 401


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"type": "customer.deleted"}, "type"),
        ({"since": "2026-11-24T10:00:00"}, "since"),  # no offset: which instant?
        ({"since": "0001-01-01T00:00:00+09:00"}, "since"),  # before any UTC instant
        ({"since": "1999-12-31T23:59:59Z"}, "since"),  # before 2000
        ({"since": "2100-01-01T09:00:00+09:00"}, "since"),  # 2100 in UTC too
        ({"since": "yesterday"}, "since"),
        ({"limit": 0}, "limit"),
    ],
)
async def test_bad_filters_are_a_422_naming_the_field(
    client: httpx.AsyncClient, admin: Headers, params: dict[str, str | int], field: str
) -> None:
    response = await client.get("/v1/events", params=params, headers=admin)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "validation_error"
    assert [e for e in body["errors"] if field in str(e)], body


async def test_a_foreign_cursor_is_a_422(client: httpx.AsyncClient, admin: Headers) -> None:
    response = await client.get("/v1/events", params={"cursor": "bm9wZQ"}, headers=admin)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid_cursor"
