"""API keys: random, prefixed, stored hashed, shown once; the 401/403 matrix of API.md."""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditRecord
from app.auth.models import ApiKey
from app.auth.service import hash_key
from app.core.settings import Settings
from app.main import create_app
from tests.conftest import KeyFactory
from tests.support.databases import BoundDatabase
from tests.support.factories import customer_body

NON_ADMIN_ROLES = ["operator", "crm", "partner"]


async def test_created_key_is_shown_once_and_stored_only_as_a_hash(
    client: httpx.AsyncClient, admin: dict[str, str], session: AsyncSession
) -> None:
    response = await client.post("/v1/api-keys", json={"name": "CRM", "role": "crm"}, headers=admin)
    assert response.status_code == 201
    body = response.json()
    secret = body["key"]
    assert secret.startswith("scms_")
    assert len(secret) > 40
    stored = await session.get(ApiKey, body["id"])
    assert stored is not None
    assert stored.key_hash == hash_key(secret)
    assert secret not in {stored.key_hash, stored.key_prefix, stored.name}
    listed = (await client.get("/v1/api-keys", headers=admin)).text
    assert secret not in listed
    fetched = await client.get(f"/v1/api-keys/{body['id']}", headers=admin)
    assert "key" not in fetched.json()


async def test_new_key_authenticates_with_its_role(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    created = await client.post(
        "/v1/api-keys", json={"name": "ops", "role": "operator"}, headers=admin
    )
    headers = {"Authorization": f"Bearer {created.json()['key']}"}
    response = await client.get("/v1/api-keys", headers=headers)
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


async def test_missing_key_is_401_with_a_bearer_challenge(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/api-keys")
    assert response.status_code == 401
    assert response.json()["code"] == "missing_api_key"
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "authorization", ["Bearer scms_unknown", "Bearer nonsense", "Basic abc", "Bearer "]
)
async def test_unknown_or_malformed_key_is_401(
    client: httpx.AsyncClient, authorization: str
) -> None:
    response = await client.get("/v1/api-keys", headers={"Authorization": authorization})
    assert response.status_code == 401


async def test_revoked_key_stops_working_at_once(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    created = (
        await client.post("/v1/api-keys", json={"name": "tmp", "role": "admin"}, headers=admin)
    ).json()
    headers = {"Authorization": f"Bearer {created['key']}"}
    assert (await client.get("/v1/api-keys", headers=headers)).status_code == 200
    revoked = await client.delete(f"/v1/api-keys/{created['id']}", headers=admin)
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    response = await client.get("/v1/api-keys", headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_api_key"
    again = await client.delete(f"/v1/api-keys/{created['id']}", headers=admin)
    assert again.status_code == 409


async def test_revoked_keys_are_listed_only_on_request(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    created = (
        await client.post("/v1/api-keys", json={"name": "old", "role": "crm"}, headers=admin)
    ).json()
    await client.delete(f"/v1/api-keys/{created['id']}", headers=admin)
    ids = {k["id"] for k in (await client.get("/v1/api-keys", headers=admin)).json()["items"]}
    assert created["id"] not in ids
    everything = await client.get("/v1/api-keys", params={"include_revoked": True}, headers=admin)
    assert created["id"] in {k["id"] for k in everything.json()["items"]}


@pytest.mark.parametrize("role", NON_ADMIN_ROLES + ["portal"])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/api-keys"),
        ("POST", "/v1/api-keys"),
        ("GET", "/v1/api-keys/key_x"),
        ("DELETE", "/v1/api-keys/key_x"),
    ],
)
async def test_only_admin_keys_manage_api_keys(
    client: httpx.AsyncClient, make_key: KeyFactory, role: str, method: str, path: str
) -> None:
    headers = await make_key(role, customer_id="cus_1" if role == "portal" else None)
    body = {"name": "x", "role": "crm"} if method == "POST" else None
    response = await client.request(method, path, json=body, headers=headers)
    assert response.status_code == 403
    assert response.json()["allowed_roles"] == ["admin"]


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/v1/api-keys"), ("POST", "/v1/api-keys"), ("DELETE", "/v1/api-keys/key_x")],
)
async def test_every_api_key_route_needs_a_key(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    response = await client.request(method, path, json={"name": "x", "role": "crm"})
    assert response.status_code == 401


async def test_unknown_key_id_is_404(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    response = await client.get("/v1/api-keys/key_missing", headers=admin)
    assert response.status_code == 404
    assert response.json()["code"] == "api_key_not_found"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "p", "role": "portal"}, "portal"),
        ({"name": "c", "role": "crm", "customer_id": "cus_1"}, "only a portal key"),
        ({"name": "", "role": "crm"}, "name"),
    ],
)
async def test_portal_keys_and_only_they_are_bound_to_a_customer(
    client: httpx.AsyncClient, admin: dict[str, str], body: dict[str, str], field: str
) -> None:
    response = await client.post("/v1/api-keys", json=body, headers=admin)
    assert response.status_code == 422
    assert field in response.text


async def test_environment_admin_key_is_accepted_as_admin(
    settings: Settings, database: BoundDatabase
) -> None:
    app = create_app(
        settings.model_copy(update={"admin_api_key": SecretStr("bootstrap-secret")}),
        database=database,
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://scms.test") as client:
        ok = await client.get("/v1/api-keys", headers={"Authorization": "Bearer bootstrap-secret"})
        bad = await client.get("/v1/api-keys", headers={"Authorization": "Bearer bootstrap"})
    assert ok.status_code == 200
    assert bad.status_code == 401


async def test_settings_never_reveal_the_admin_key() -> None:
    settings = Settings(admin_api_key="bootstrap-secret")
    assert "bootstrap-secret" not in repr(settings)
    assert "bootstrap-secret" not in str(settings.model_dump())


async def test_keys_are_found_by_hash_with_one_indexed_lookup(session: AsyncSession) -> None:
    # The unique index on key_hash is what makes authentication O(log n).
    stmt = select(ApiKey).where(ApiKey.key_hash == "x")
    assert (await session.scalars(stmt)).one_or_none() is None
    table = ApiKey.__table__
    assert isinstance(table, Table)
    indexes = {str(ix.name): ix for ix in table.indexes}
    assert indexes["ix_api_keys_key_hash"].unique


async def test_creating_and_revoking_keys_is_in_the_operation_log(
    client: httpx.AsyncClient, admin: dict[str, str], session: AsyncSession
) -> None:
    """R-PTN-2: every change through the API is kept with who, what, when, before/after."""
    created = (
        await client.post("/v1/api-keys", json={"name": "ops", "role": "operator"}, headers=admin)
    ).json()
    await client.delete(f"/v1/api-keys/{created['id']}", headers=admin)
    records = (
        await session.scalars(
            select(AuditRecord)
            .where(AuditRecord.resource_id == created["id"])
            .order_by(AuditRecord.id)
        )
    ).all()
    assert [r.action for r in records] == ["api_keys.create", "api_keys.revoke"]
    assert records[0].before is None
    assert records[1].before is not None
    assert records[1].after is not None
    assert records[1].before["revoked_at"] is None
    assert records[1].after["revoked_at"] is not None
    assert all("key_hash" not in (r.after or {}) for r in records)
    assert created["key"] not in str([r.after for r in records])


async def test_portal_key_for_a_customer_that_does_not_exist_is_422_issue_9_s8(
    client: httpx.AsyncClient, admin: dict[str, str], session: AsyncSession
) -> None:
    """A portal key is bound to a customer that exists; an unknown id is refused, naming it,
    and no key is made. (Portal without a customer, or another role with one: 422 too.)"""
    body = {"name": "portal", "role": "portal", "customer_id": "cus_nope"}
    response = await client.post("/v1/api-keys", json=body, headers=admin)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "customer_not_found"
    assert problem["customer_id"] == "cus_nope"
    assert "cus_nope" in problem["detail"]
    stored = await session.scalars(select(ApiKey).where(ApiKey.customer_id == "cus_nope"))
    assert stored.all() == []
    for refused in (
        {"name": "p", "role": "portal"},
        {"name": "c", "role": "crm", "customer_id": "cus_nope"},
    ):
        assert (await client.post("/v1/api-keys", json=refused, headers=admin)).status_code == 422
    customer = await client.post("/v1/customers", json=customer_body(), headers=admin)
    body["customer_id"] = customer.json()["id"]
    created = await client.post("/v1/api-keys", json=body, headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["customer_id"] == body["customer_id"]


async def test_issue_9_s5_an_empty_customer_id_is_422_not_500(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    """Found by `make fuzz`: "" passed the "only portal keys name a customer" check and
    broke the table's constraint (a 500)."""
    for role in ("partner", "portal"):
        body = {"name": "x", "role": role, "customer_id": ""}
        response = await client.post("/v1/api-keys", json=body, headers=admin)
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "validation_error"
