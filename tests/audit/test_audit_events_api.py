"""The operation log over HTTP (issue 13 §3, R-PTN-2, Art. 32.3): who, what, when,
before and after; filters; the NDJSON export; who may read it."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.roles import Role
from app.core.clock import FixedClock
from tests.conftest import KeyFactory
from tests.contracts.steps import key_id
from tests.support.factories import create_customer


async def _list(
    client: httpx.AsyncClient, headers: dict[str, str], **params: Any
) -> dict[str, Any]:
    response = await client.get("/v1/audit-events", params=params, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _two_customers(
    client: httpx.AsyncClient, operator: dict[str, str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    mine = await create_customer(client, operator, name="株式会社ミネ")
    theirs = await create_customer(client, operator, name="株式会社ホカ")
    patched = await client.patch(
        f"/v1/customers/{mine['id']}",
        json={"phone": "03-1234-5678"},
        headers={**operator, "If-Match": f'"{mine["id"]}.v1"'},
    )
    assert patched.status_code == 200, patched.text
    return mine, theirs


async def test_r_ptn_2_a_change_is_listed_with_who_what_when_before_and_after(
    client: httpx.AsyncClient, make_key: KeyFactory, session: AsyncSession, clock: FixedClock
) -> None:
    operator = await make_key(Role.OPERATOR)
    mine, _ = await _two_customers(client, operator)
    body = await _list(client, operator, resource=mine["id"])
    update, create = body["items"]  # newest first
    assert update["action"] == "customers.update"
    assert create["action"] == "customers.create"
    assert update["actor"] == {
        "key_id": await key_id(session, operator),
        "name": "test operator",
        "role": "operator",
    }
    assert update["resource"] == {"type": "customer", "id": mine["id"]}
    assert update["customer_id"] == mine["id"]
    assert update["before"]["phone"] is None
    assert update["after"]["phone"] == "03-1234-5678"
    assert create["before"] is None
    assert update["occurred_at"].startswith(clock.now().isoformat()[:19])
    assert update["seq"] > create["seq"]


async def test_r_ptn_2_filters_by_actor_action_and_time_window(
    client: httpx.AsyncClient, make_key: KeyFactory, session: AsyncSession, clock: FixedClock
) -> None:
    operator = await make_key(Role.OPERATOR)
    crm = await make_key(Role.CRM)
    await _two_customers(client, operator)
    await create_customer(client, crm, name="株式会社シーアールエム")
    by_crm = await _list(client, operator, actor=await key_id(session, crm))
    assert [e["after"]["name"] for e in by_crm["items"]] == ["株式会社シーアールエム"]
    updates = await _list(client, operator, action="customers.update")
    assert {e["action"] for e in updates["items"]} == {"customers.update"}
    today = clock.today()
    inside = await _list(client, operator, since=str(today), until=str(today))
    assert len(inside["items"]) >= 4
    later = await _list(client, operator, since=str(today + timedelta(days=1)))
    assert later["items"] == []


async def test_r_ptn_2_the_list_pages_newest_first_with_a_cursor(
    client: httpx.AsyncClient, make_key: KeyFactory
) -> None:
    operator = await make_key(Role.OPERATOR)
    await _two_customers(client, operator)
    first = await _list(client, operator, limit=2)
    second = await _list(client, operator, limit=2, cursor=first["next_cursor"])
    seqs = [e["seq"] for e in first["items"] + second["items"]]
    assert seqs == sorted(seqs, reverse=True)
    assert len(set(seqs)) == 3  # two creations and a change
    assert second["next_cursor"] is None


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"since": "2026-11-24T10:00:00"}, "validation_error"),  # no offset
        (
            {"since": "2026-11-24", "until": "2026-11-23"},
            "invalid_window",
        ),
        ({"cursor": "WyJ4Il0"}, "invalid_cursor"),  # ["x"]: not a seq
        ({"cursor": "WzVd"}, "invalid_cursor"),  # [5]: the API writes seqs as text
    ],
)
async def test_bad_filters_are_422_with_a_code(
    client: httpx.AsyncClient, make_key: KeyFactory, params: dict[str, str], code: str
) -> None:
    operator = await make_key(Role.OPERATOR)
    response = await client.get("/v1/audit-events", params=params, headers=operator)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == code


async def test_role_portal_lists_only_its_own_customers_entries(
    client: httpx.AsyncClient, make_key: KeyFactory
) -> None:
    operator = await make_key(Role.OPERATOR)
    mine, theirs = await _two_customers(client, operator)
    portal = await make_key(Role.PORTAL, customer_id=mine["id"])
    body = await _list(client, portal)
    assert body["items"]
    assert {e["customer_id"] for e in body["items"]} == {mine["id"]}
    assert (await _list(client, portal, resource=theirs["id"]))["items"] == []


@pytest.mark.parametrize("role", [Role.ADMIN, Role.OPERATOR])
async def test_role_admin_and_operator_list_every_customers_entries(
    client: httpx.AsyncClient, make_key: KeyFactory, role: Role
) -> None:
    operator = await make_key(Role.OPERATOR)
    mine, theirs = await _two_customers(client, operator)
    body = await _list(client, await make_key(role))
    assert {mine["id"], theirs["id"]} <= {e["customer_id"] for e in body["items"]}


@pytest.mark.parametrize("role", [Role.CRM, Role.PARTNER])
@pytest.mark.parametrize("path", ["/v1/audit-events", "/v1/audit-events/export"])
async def test_role_crm_and_partner_may_not_read_the_log(
    client: httpx.AsyncClient, make_key: KeyFactory, role: Role, path: str
) -> None:
    response = await client.get(path, headers=await make_key(role))
    assert response.status_code == 403, response.text


def _lines(response: httpx.Response) -> list[dict[str, Any]]:
    return [json.loads(line) for line in response.text.splitlines()]


async def test_r_ptn_2_export_streams_ndjson_oldest_first_as_a_download(
    client: httpx.AsyncClient, make_key: KeyFactory
) -> None:
    operator = await make_key(Role.OPERATOR)
    await _two_customers(client, operator)
    response = await client.get(
        "/v1/audit-events/export",
        params={"since": "2026-11-01"},
        headers=operator,
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/x-ndjson"
    assert response.headers["content-disposition"] == (
        'attachment; filename="audit-events-2026-11-01-now.ndjson"'
    )
    lines = _lines(response)
    listed = await _list(client, operator, limit=200)
    assert [e["seq"] for e in lines] == sorted(e["seq"] for e in listed["items"])
    assert lines[-1] == listed["items"][0]  # the same entry, the same shape
    for before, after in zip(lines, lines[1:], strict=False):
        assert after["prev_hash"] == before["hash"]


async def test_role_portal_exports_only_its_own_customers_entries(
    client: httpx.AsyncClient, make_key: KeyFactory
) -> None:
    operator = await make_key(Role.OPERATOR)
    mine, _ = await _two_customers(client, operator)
    portal = await make_key(Role.PORTAL, customer_id=mine["id"])
    response = await client.get("/v1/audit-events/export", headers=portal)
    assert response.status_code == 200, response.text
    lines = _lines(response)
    assert len(lines) == 2  # the customer's creation and its change
    assert {e["customer_id"] for e in lines} == {mine["id"]}


async def test_export_of_an_empty_window_is_an_empty_file(
    client: httpx.AsyncClient, make_key: KeyFactory
) -> None:
    operator = await make_key(Role.OPERATOR)
    response = await client.get(
        "/v1/audit-events/export",
        params={"since": "2027-12-31"},
        headers=operator,
    )
    assert response.status_code == 200
    assert response.content == b""
