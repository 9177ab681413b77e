"""Customers over HTTP (API.md "Customers"): create, read, list, patch, audit, roles."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.audit.models import AuditRecord
from app.audit.service import snapshot
from app.core.clock import TOKYO
from app.customers.models import Customer
from tests.conftest import KeyFactory
from tests.contracts.steps import key_id
from tests.support.factories import create_customer, customer_body


async def _audit(session: AsyncSession, customer_id: str) -> list[AuditRecord]:
    stmt = (
        select(AuditRecord)
        .where(AuditRecord.resource_type == "customer", AuditRecord.resource_id == customer_id)
        .order_by(AuditRecord.id)
    )
    return list((await session.scalars(stmt)).all())


async def _get(client: httpx.AsyncClient, customer_id: str, headers: dict[str, str]) -> Any:
    response = await client.get(f"/v1/customers/{customer_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response


def _fields(body: dict[str, Any]) -> list[str]:
    return [e["field"] for e in body["errors"]]


# ---- create ----------------------------------------------------------------------------


async def test_create_answers_201_with_location_etag_and_the_customer(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    body = customer_body(
        phone="03-1234-5678", postal_address="東京都千代田区1-1", external_ref="CRM-1"
    )
    response = await client.post("/v1/customers", json=body, headers=admin)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["id"].startswith("cus_")
    assert response.headers["location"] == f"/v1/customers/{created['id']}"
    assert response.headers["etag"] == f'"{created["id"]}.v1"'
    assert created["version"] == 1
    for field, value in body.items():
        assert created[field] == value
    fetched = await _get(client, created["id"], admin)
    assert fetched.json() == created
    assert fetched.headers["etag"] == response.headers["etag"]


@pytest.mark.parametrize("external_ref", [None, "CRM-AUD"], ids=["written-at-commit", "savepoint"])
async def test_create_leaves_an_audit_record_with_no_before_and_the_customer_after(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    session: AsyncSession,
    external_ref: str | None,
) -> None:
    """R-PTN-2: who, what, when, before and after. A create without an external_ref
    writes its row with the commit's other rows, one with it inside a SAVEPOINT: the
    entry records the customer as stored, column for column, either way."""
    response = await client.post(
        "/v1/customers",
        json=customer_body(external_ref=external_ref),
        headers={**admin, "X-Request-ID": "req-audit-1"},
    )
    assert response.status_code == 201
    created = response.json()
    (record,) = await _audit(session, created["id"])
    assert record.request_id == "req-audit-1"
    assert record.action == "customers.create"
    assert record.actor_key_id == await key_id(session, admin)
    assert record.before is None
    stored = await session.get(Customer, created["id"])
    assert stored is not None
    assert record.after == snapshot(stored)
    assert record.after["external_ref"] == external_ref
    assert record.after["version"] == 1
    assert record.customer_id == created["id"]


async def test_a_create_without_external_ref_is_one_statement(
    client: httpx.AsyncClient, admin: dict[str, str], engine: AsyncEngine, db_kind: str
) -> None:
    """Issue 11: on PostgreSQL a create is one round trip, as the bare insert is: its row,
    the operation log's entry linked into the chain by the database, and the outbox
    event, in one statement (which commits itself when the session has its own
    connection: tests/core/test_commit_writes.py; here it joins the test's transaction)."""
    if db_kind != "postgres":
        pytest.skip("one combined statement is PostgreSQL's (SQLite has no round trip)")
    seen: list[str] = []

    def _seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            seen.append(" ".join(statement.split()))

    await create_customer(client, admin)  # the key verified, caches warm
    event.listen(engine.sync_engine, "before_cursor_execute", _seen)
    try:
        created = await create_customer(client, admin)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", _seen)
    assert len(seen) == 1, seen
    for write in ("INSERT INTO customers", "INSERT INTO audit_records", "INSERT INTO events"):
        assert write in seen[0]
    assert "UPDATE audit_chain_head" in seen[0]
    fetched = await _get(client, created["id"], admin)
    assert fetched.json() == created


async def test_a_duplicate_external_ref_is_409_naming_the_existing_customer(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    first = await create_customer(client, admin, external_ref="CRM-42")
    response = await client.post(
        "/v1/customers", json=customer_body(name="別会社", external_ref="CRM-42"), headers=admin
    )
    assert response.status_code == 409
    problem = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert problem["code"] == "external_ref_taken"
    assert problem["existing_id"] == first["id"]
    listed = await client.get("/v1/customers", params={"external_ref": "CRM-42"}, headers=admin)
    assert [c["id"] for c in listed.json()["items"]] == [first["id"]]


@pytest.mark.parametrize(
    ("body", "field", "error_type"),
    [
        ({k: v for k, v in customer_body().items() if k != "name"}, "name", "missing"),
        (customer_body(name="   "), "name", "string_too_short"),
        (customer_body(email="not-an-address"), "email", "string_pattern_mismatch"),
        (customer_body(email="two@@example.jp"), "email", "string_pattern_mismatch"),
        (customer_body(colour="blue"), "colour", "extra_forbidden"),
        (customer_body(phone="call me"), "phone", "string_pattern_mismatch"),
    ],
    ids=["missing-name", "blank-name", "bad-email", "double-at-email", "unknown-field", "phone"],
)
async def test_an_invalid_customer_is_422_naming_the_field(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    body: dict[str, Any],
    field: str,
    error_type: str,
) -> None:
    response = await client.post("/v1/customers", json=body, headers=admin)
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "validation_error"
    assert _fields(problem) == [field]
    assert problem["errors"][0]["type"] == error_type
    assert field in problem["detail"]
    listed = await client.get("/v1/customers", headers=admin)
    assert listed.json()["items"] == []


# ---- read and list ---------------------------------------------------------------------


async def test_an_unknown_customer_is_404(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    response = await client.get("/v1/customers/cus_nope", headers=admin)
    assert response.status_code == 404
    assert response.json()["code"] == "customer_not_found"


async def test_list_filters_by_external_ref_and_by_part_of_the_name(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    alpha = await create_customer(client, admin, name="Alpha Trading K.K.", external_ref="A-1")
    beta = await create_customer(client, admin, name="Beta Alpha Foods", external_ref="B-1")
    gamma = await create_customer(client, admin, name="Gamma 100%_Works", external_ref="C-1")

    async def ids(**params: str) -> set[str]:
        response = await client.get("/v1/customers", params=params, headers=admin)
        assert response.status_code == 200, response.text
        return {c["id"] for c in response.json()["items"]}

    assert await ids() == {alpha["id"], beta["id"], gamma["id"]}
    assert await ids(external_ref="B-1") == {beta["id"]}
    assert await ids(external_ref="nobody") == set()
    assert await ids(name="alpha") == {alpha["id"], beta["id"]}
    assert await ids(name="ALPHA TRAD") == {alpha["id"]}
    # LIKE wildcards in the query are taken literally.
    assert await ids(name="%_") == {gamma["id"]}
    assert await ids(name="_") == {gamma["id"]}
    assert await ids(name="alpha", external_ref="A-1") == {alpha["id"]}


async def test_list_pages_with_a_cursor_newest_first_without_gaps_or_repeats(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    created = {(await create_customer(client, admin, name=f"Customer {i}"))["id"] for i in range(5)}
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, str | int] = {"limit": 2}
        if cursor is not None:
            params["cursor"] = cursor
        response = await client.get("/v1/customers", params=params, headers=admin)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= 2
        seen += [c["id"] for c in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert len(seen) == 5
    assert set(seen) == created
    assert seen == sorted(seen, reverse=True)


async def test_a_cursor_the_api_did_not_give_is_422(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.get("/v1/customers", params={"cursor": "garbage!"}, headers=admin)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_cursor"


# ---- patch -----------------------------------------------------------------------------


async def test_patch_with_the_current_etag_bumps_the_version_and_the_etag(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    created = await create_customer(client, admin)
    etag = (await _get(client, created["id"], admin)).headers["etag"]
    response = await client.patch(
        f"/v1/customers/{created['id']}",
        json={"name": "株式会社サンプル ホールディングス", "phone": "03-9999-0000"},
        headers={**admin, "If-Match": etag},
    )
    assert response.status_code == 200, response.text
    patched = response.json()
    assert patched["version"] == 2
    assert patched["name"] == "株式会社サンプル ホールディングス"
    assert patched["phone"] == "03-9999-0000"
    assert patched["email"] == created["email"]
    assert response.headers["etag"] == f'"{created["id"]}.v2"'
    assert response.headers["etag"] != etag
    assert (await _get(client, created["id"], admin)).json() == patched


async def test_patch_with_a_stale_etag_is_412_and_changes_nothing(
    client: httpx.AsyncClient, admin: dict[str, str], session: AsyncSession
) -> None:
    created = await create_customer(client, admin)
    stale = (await _get(client, created["id"], admin)).headers["etag"]
    first = await client.patch(
        f"/v1/customers/{created['id']}",
        json={"name": "First"},
        headers={**admin, "If-Match": stale},
    )
    assert first.status_code == 200
    second = await client.patch(
        f"/v1/customers/{created['id']}",
        json={"name": "Second"},
        headers={**admin, "If-Match": stale},
    )
    assert second.status_code == 412
    problem = second.json()
    assert problem["code"] == "precondition_failed"
    assert problem["current_etag"] == first.headers["etag"]
    current = (await _get(client, created["id"], admin)).json()
    assert current["name"] == "First"
    assert current["version"] == 2
    assert [r.action for r in await _audit(session, created["id"])] == [
        "customers.create",
        "customers.update",
    ]


async def test_patch_without_if_match_is_allowed(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    created = await create_customer(client, admin)
    response = await client.patch(
        f"/v1/customers/{created['id']}", json={"billing_name": "経理部 御中"}, headers=admin
    )
    assert response.status_code == 200, response.text
    assert response.json()["billing_name"] == "経理部 御中"
    assert response.json()["version"] == 2


async def test_patch_can_clear_an_optional_field_but_not_a_required_one(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    created = await create_customer(client, admin, phone="03-1234-5678")
    cleared = await client.patch(
        f"/v1/customers/{created['id']}", json={"phone": None}, headers=admin
    )
    assert cleared.status_code == 200
    assert cleared.json()["phone"] is None
    for field in ("name", "billing_name", "email"):
        response = await client.patch(
            f"/v1/customers/{created['id']}", json={field: None}, headers=admin
        )
        assert response.status_code == 422, field
        assert field in response.json()["detail"]
    current = (await _get(client, created["id"], admin)).json()
    assert current["name"] == created["name"]
    assert current["version"] == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [({"email": "nope"}, "email"), ({"name": ""}, "name"), ({"id": "cus_x"}, "id")],
)
async def test_an_invalid_patch_is_422_naming_the_field(
    client: httpx.AsyncClient, admin: dict[str, str], body: dict[str, Any], field: str
) -> None:
    created = await create_customer(client, admin)
    response = await client.patch(f"/v1/customers/{created['id']}", json=body, headers=admin)
    assert response.status_code == 422
    assert _fields(response.json()) == [field]


async def test_patch_to_an_external_ref_another_customer_holds_is_409(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    holder = await create_customer(client, admin, external_ref="CRM-7")
    other = await create_customer(client, admin, external_ref="CRM-8")
    response = await client.patch(
        f"/v1/customers/{other['id']}", json={"external_ref": "CRM-7"}, headers=admin
    )
    assert response.status_code == 409
    assert response.json()["code"] == "external_ref_taken"
    assert response.json()["existing_id"] == holder["id"]
    assert (await _get(client, other["id"], admin)).json()["external_ref"] == "CRM-8"
    # Its own external_ref is not "taken".
    same = await client.patch(
        f"/v1/customers/{other['id']}",
        json={"external_ref": "CRM-8", "name": "Renamed"},
        headers=admin,
    )
    assert same.status_code == 200


async def test_patch_leaves_an_audit_record_with_before_and_after(
    client: httpx.AsyncClient, admin: dict[str, str], make_key: KeyFactory, session: AsyncSession
) -> None:
    """R-PTN-2."""
    created = await create_customer(client, admin)
    crm = await make_key("crm")
    response = await client.patch(
        f"/v1/customers/{created['id']}", json={"email": "new@example.co.jp"}, headers=crm
    )
    assert response.status_code == 200
    create, update = await _audit(session, created["id"])
    assert create.action == "customers.create"
    assert update.action == "customers.update"
    assert update.actor_key_id == await key_id(session, crm)
    assert update.before is not None
    assert update.after is not None
    assert update.before["email"] == "billing@example.co.jp"
    assert update.after["email"] == "new@example.co.jp"
    assert update.before["version"] == 1
    assert update.after["version"] == 2
    assert update.before["name"] == update.after["name"] == created["name"]


async def test_a_patch_that_changes_nothing_keeps_the_version_and_writes_no_audit(
    client: httpx.AsyncClient, admin: dict[str, str], session: AsyncSession
) -> None:
    created = await create_customer(client, admin)
    response = await client.patch(
        f"/v1/customers/{created['id']}", json={"name": created["name"]}, headers=admin
    )
    assert response.status_code == 200
    assert response.json()["version"] == 1
    assert len(await _audit(session, created["id"])) == 1


async def test_patch_of_an_unknown_customer_is_404(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.patch("/v1/customers/cus_nope", json={"name": "x"}, headers=admin)
    assert response.status_code == 404


# ---- roles (API.md "Roles", R-PTN-3) ----------------------------------------------------


@pytest.mark.parametrize("role", ["crm", "operator"])
async def test_crm_and_operator_create_read_and_patch(
    client: httpx.AsyncClient, make_key: KeyFactory, role: str
) -> None:
    headers = await make_key(role)
    created = await create_customer(client, headers)
    assert (await _get(client, created["id"], headers)).json()["id"] == created["id"]
    listed = await client.get("/v1/customers", headers=headers)
    assert [c["id"] for c in listed.json()["items"]] == [created["id"]]
    patched = await client.patch(
        f"/v1/customers/{created['id']}", json={"name": "Patched"}, headers=headers
    )
    assert patched.status_code == 200
    assert patched.json()["name"] == "Patched"


async def test_a_portal_key_sees_only_its_own_customer(
    client: httpx.AsyncClient, admin: dict[str, str], make_key: KeyFactory
) -> None:
    """R-PTN-3: another customer is 404 (never revealed), the list holds only its own."""
    own = await create_customer(client, admin, name="Own K.K.", external_ref="OWN")
    other = await create_customer(client, admin, name="Other K.K.", external_ref="OTHER")
    portal = await make_key("portal", customer_id=own["id"])

    assert (await _get(client, own["id"], portal)).json()["id"] == own["id"]
    hidden = await client.get(f"/v1/customers/{other['id']}", headers=portal)
    assert hidden.status_code == 404
    missing = await client.get("/v1/customers/cus_nope", headers=portal)
    assert hidden.json()["detail"].replace(other["id"], "X") == missing.json()["detail"].replace(
        "cus_nope", "X"
    )

    listed = await client.get("/v1/customers", headers=portal)
    assert [c["id"] for c in listed.json()["items"]] == [own["id"]]
    by_ref = await client.get("/v1/customers", params={"external_ref": "OTHER"}, headers=portal)
    assert by_ref.json()["items"] == []
    by_name = await client.get("/v1/customers", params={"name": "K.K."}, headers=portal)
    assert [c["id"] for c in by_name.json()["items"]] == [own["id"]]


async def test_a_portal_key_may_not_create_or_patch(
    client: httpx.AsyncClient, admin: dict[str, str], make_key: KeyFactory
) -> None:
    own = await create_customer(client, admin)
    portal = await make_key("portal", customer_id=own["id"])
    patched = await client.patch(
        f"/v1/customers/{own['id']}", json={"name": "Mine now"}, headers=portal
    )
    assert patched.status_code == 403
    assert patched.json()["code"] == "forbidden"
    created = await client.post("/v1/customers", json=customer_body(), headers=portal)
    assert created.status_code == 403
    assert (await _get(client, own["id"], admin)).json()["name"] == own["name"]


async def test_a_partner_key_is_403_on_every_customer_route(
    client: httpx.AsyncClient, admin: dict[str, str], make_key: KeyFactory
) -> None:
    existing = await create_customer(client, admin)
    partner = await make_key("partner")
    path = f"/v1/customers/{existing['id']}"
    responses = [
        await client.post("/v1/customers", json=customer_body(), headers=partner),
        await client.get("/v1/customers", headers=partner),
        await client.get(path, headers=partner),
        await client.patch(path, json={"name": "x"}, headers=partner),
    ]
    assert [r.status_code for r in responses] == [403] * 4


async def test_without_a_key_every_customer_route_is_401(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    existing = await create_customer(client, admin)
    path = f"/v1/customers/{existing['id']}"
    responses = [
        await client.post("/v1/customers", json=customer_body()),
        await client.get("/v1/customers"),
        await client.get(path),
        await client.patch(path, json={"name": "x"}),
    ]
    assert [r.status_code for r in responses] == [401] * 4
    assert {r.json()["code"] for r in responses} == {"missing_api_key"}


async def test_timestamps_carry_an_offset_and_read_back_as_the_same_instant(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    """API.md: timestamps RFC 3339 with offset, whichever database stores them."""
    created = await create_customer(client, admin)
    fetched = (await _get(client, created["id"], admin)).json()
    instant = datetime(2026, 11, 24, 10, tzinfo=TOKYO)
    for body in (created, fetched):
        for field in ("created_at", "updated_at"):
            parsed = datetime.fromisoformat(body[field])
            assert parsed.tzinfo is not None, (field, body[field])
            assert parsed == instant
