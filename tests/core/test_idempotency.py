"""Idempotency-Key (issue 12 §1): the first answer again, never a second change."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import idempotency
from app.core.clock import FixedClock
from app.core.idempotency import IdempotencyKey
from app.customers import service as customers
from app.customers.models import Customer
from app.customers.schemas import CustomerRead
from tests.conftest import KeyFactory
from tests.support.databases import BoundDatabase
from tests.support.factories import customer_body

Headers = dict[str, str]


def _with_key(headers: Headers, key: str) -> Headers:
    return {**headers, "Idempotency-Key": key}


async def _customers(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Customer)) or 0)


async def test_the_same_request_again_gets_the_first_answer_and_creates_once(
    client: httpx.AsyncClient, admin: Headers, session: AsyncSession
) -> None:
    headers = _with_key(admin, "create-acme-1")
    first = await client.post("/v1/customers", json=customer_body(), headers=headers)
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    again = await client.post("/v1/customers", json=customer_body(), headers=headers)
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    for name in ("etag", "location", "content-type"):
        if name in first.headers:
            assert again.headers[name] == first.headers[name]
    # The replay is this request's answer: it carries its own request id.
    assert again.headers["x-request-id"] != first.headers["x-request-id"]
    assert await _customers(session) == 1


async def test_key_order_and_white_space_do_not_make_another_request(
    client: httpx.AsyncClient, admin: Headers, session: AsyncSession
) -> None:
    headers = {**_with_key(admin, "k-canonical"), "Content-Type": "application/json"}
    body = customer_body()
    first = await client.post(
        "/v1/customers", content=httpx.Request("POST", "/", json=body).content, headers=headers
    )
    reordered = "{ " + ", ".join(f'"{k}": "{v}"' for k, v in reversed(body.items())) + " }"
    again = await client.post("/v1/customers", content=reordered.encode(), headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["idempotent-replayed"] == "true"
    assert await _customers(session) == 1


async def test_the_same_key_with_another_body_is_422_idempotency_key_reused(
    client: httpx.AsyncClient, admin: Headers, session: AsyncSession
) -> None:
    headers = _with_key(admin, "k-reused")
    assert (await client.post("/v1/customers", json=customer_body(), headers=headers)).is_success
    other = await client.post("/v1/customers", json=customer_body(name="別会社"), headers=headers)
    assert other.status_code == 422
    assert other.headers["content-type"].startswith("application/problem+json")
    problem = other.json()
    assert problem["code"] == "idempotency_key_reused"
    assert (problem["first_method"], problem["first_path"]) == ("POST", "/v1/customers")
    assert await _customers(session) == 1


async def test_the_same_key_on_another_path_is_422_idempotency_key_reused(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    headers = _with_key(admin, "k-path")
    created = await client.post("/v1/customers", json=customer_body(), headers=headers)
    patch = await client.patch(
        f"/v1/customers/{created.json()['id']}",
        json={"name": "新社名"},
        headers={**headers, "If-Match": created.headers["etag"]},
    )
    assert (patch.status_code, patch.json()["code"]) == (422, "idempotency_key_reused")


async def test_keys_are_scoped_to_the_api_key(
    client: httpx.AsyncClient, admin: Headers, make_key: KeyFactory, session: AsyncSession
) -> None:
    other = await make_key("crm")
    first = await client.post(
        "/v1/customers", json=customer_body(), headers=_with_key(admin, "shared")
    )
    second = await client.post(
        "/v1/customers", json=customer_body(), headers=_with_key(other, "shared")
    )
    assert (first.status_code, second.status_code) == (201, 201)
    assert "idempotent-replayed" not in second.headers
    assert first.json()["id"] != second.json()["id"]
    assert await _customers(session) == 2


async def _api_key_id(client: httpx.AsyncClient, headers: Headers) -> str:
    return str((await client.get("/v1/api-keys", headers=headers)).json()["items"][0]["id"])


async def test_while_the_first_is_processing_the_answer_is_409_with_retry_after(
    client: httpx.AsyncClient,
    admin: Headers,
    session: AsyncSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A second attempt while the first is still in its route (one process: told from
    memory, without a query, on either database)."""
    real = customers.create_customer
    inside, release = asyncio.Event(), asyncio.Event()

    async def slow(*args: Any, **kwargs: Any) -> CustomerRead:
        inside.set()
        await release.wait()
        return await real(*args, **kwargs)

    monkeypatch.setattr(customers, "create_customer", slow)
    headers = _with_key(admin, "k-busy")
    first = asyncio.create_task(client.post("/v1/customers", json=customer_body(), headers=headers))
    await inside.wait()
    busy = await client.post("/v1/customers", json=customer_body(), headers=headers)
    release.set()
    assert (await first).status_code == 201
    assert busy.status_code == 409
    assert busy.json()["code"] == "idempotency_key_in_use"
    assert int(busy.headers["retry-after"]) >= 1
    again = await client.post("/v1/customers", json=customer_body(), headers=headers)
    assert (again.status_code, again.headers["idempotent-replayed"]) == (201, "true")
    assert await _customers(session) == 1


async def test_an_attempt_in_another_process_is_409_while_it_holds_the_key(
    client: httpx.AsyncClient,
    admin: Headers,
    session: AsyncSession,
    database: BoundDatabase,
    db_kind: str,
) -> None:
    """Another replica's attempt holds the key's advisory lock until it commits."""
    if db_kind != "postgres":
        pytest.skip("PostgreSQL's advisory locks; SQLite's other processes queue (docs)")
    request = idempotency.KeyedRequest(
        await _api_key_id(client, admin), "k-replica", "f", "POST", "/v1/customers"
    )
    async with database.engine.connect() as replica:  # a connection of its own
        await replica.execute(
            text("SELECT pg_advisory_xact_lock(:space, :key)"),
            {"space": idempotency.LOCK_SPACE, "key": request.lock},
        )
        busy = await client.post(
            "/v1/customers", json=customer_body(), headers=_with_key(admin, "k-replica")
        )
        assert (busy.status_code, busy.json()["code"]) == (409, "idempotency_key_in_use")
        assert await _customers(session) == 0
        await replica.rollback()
    done = await client.post(
        "/v1/customers", json=customer_body(), headers=_with_key(admin, "k-replica")
    )
    assert done.status_code == 201, done.text


async def test_two_attempts_that_both_looked_first_create_once(
    client: httpx.AsyncClient,
    admin: Headers,
    session: AsyncSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The second looked before the first committed (or, on SQLite, queued behind it):
    its own answer finds the first's kept, so it rolls back its change and answers the
    first's."""
    headers = _with_key(admin, "k-race")
    first = await client.post("/v1/customers", json=customer_body(), headers=headers)
    assert first.status_code == 201

    async def looked_too_early(*args: Any, **kwargs: Any) -> None:
        return None

    monkeypatch.setattr(idempotency, "look", looked_too_early)
    second = await client.post("/v1/customers", json=customer_body(), headers=headers)
    assert (second.status_code, second.headers["idempotent-replayed"]) == (201, "true")
    assert second.json() == first.json()
    assert await _customers(session) == 1


async def test_nothing_is_written_for_a_key_before_its_answer(
    client: httpx.AsyncClient,
    admin: Headers,
    session: AsyncSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No row marks an attempt in progress, so a killed attempt leaves nothing a retry
    would have to wait out."""
    real = customers.create_customer
    seen: list[int] = []

    async def looking(db: AsyncSession, *args: Any, **kwargs: Any) -> CustomerRead:
        seen.append(int(await db.scalar(select(func.count()).select_from(IdempotencyKey)) or 0))
        return await real(db, *args, **kwargs)

    monkeypatch.setattr(customers, "create_customer", looking)
    created = await client.post(
        "/v1/customers", json=customer_body(), headers=_with_key(admin, "k-quiet")
    )
    assert created.status_code == 201
    assert seen == [0]
    assert await session.scalar(select(func.count()).select_from(IdempotencyKey)) == 1


async def test_a_4xx_answer_is_kept_and_replayed(
    client: httpx.AsyncClient, admin: Headers, session: AsyncSession
) -> None:
    """Stripe's rule: what the request produced is its answer (its change rolled back)."""
    headers = _with_key(admin, "k-invalid")
    bad = customer_body(email="not an email")
    first = await client.post("/v1/customers", json=bad, headers=headers)
    assert first.status_code == 422
    again = await client.post("/v1/customers", json=bad, headers=headers)
    assert (again.status_code, again.headers["idempotent-replayed"]) == (422, "true")
    assert again.json()["errors"] == first.json()["errors"]


async def test_a_5xx_is_not_kept_so_a_retry_runs_again(
    client: httpx.AsyncClient,
    admin: Headers,
    session: AsyncSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = customers.create_customer

    async def broken(*args: Any, **kwargs: Any) -> CustomerRead:
        raise RuntimeError("a bug")

    monkeypatch.setattr(customers, "create_customer", broken)
    headers = _with_key(admin, "k-500")
    failed = await client.post("/v1/customers", json=customer_body(), headers=headers)
    assert (failed.status_code, failed.json()["code"]) == (500, "internal_error")
    assert await session.scalar(select(func.count()).select_from(IdempotencyKey)) == 0
    monkeypatch.setattr(customers, "create_customer", real)
    retried = await client.post("/v1/customers", json=customer_body(), headers=headers)
    assert retried.status_code == 201
    assert "idempotent-replayed" not in retried.headers
    assert await _customers(session) == 1


async def test_the_change_and_its_stored_answer_commit_together(
    client: httpx.AsyncClient,
    admin: Headers,
    session: AsyncSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Storing the answer fails after the route has run: the customer is not created."""

    def cannot_store(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(idempotency, "store", cannot_store)
    failed = await client.post(
        "/v1/customers", json=customer_body(), headers=_with_key(admin, "k-atomic")
    )
    assert failed.status_code == 500
    assert await _customers(session) == 0
    assert await session.scalar(select(func.count()).select_from(IdempotencyKey)) == 0


async def test_a_key_older_than_the_ttl_is_free_again_and_purged(
    client: httpx.AsyncClient,
    admin: Headers,
    session: AsyncSession,
    clock: FixedClock,
    database: BoundDatabase,
) -> None:
    headers = _with_key(admin, "k-ttl")
    first = await client.post("/v1/customers", json=customer_body(), headers=headers)
    clock.instant += timedelta(hours=24, seconds=1)
    later = await client.post("/v1/customers", json=customer_body(name="翌日"), headers=headers)
    assert later.status_code == 201
    assert later.json()["id"] != first.json()["id"]
    clock.instant += timedelta(hours=23)
    assert await idempotency.purge_expired(database, clock.now()) == 0
    clock.instant += timedelta(hours=1)
    assert await idempotency.purge_expired(database, clock.now()) == 1
    assert await session.scalar(select(func.count()).select_from(IdempotencyKey)) == 0


@pytest.mark.parametrize("key", ["", "x" * 256, "ümlaut"])
async def test_a_malformed_key_is_422(
    client: httpx.AsyncClient, admin: Headers, session: AsyncSession, key: str
) -> None:
    response = await client.post(
        "/v1/customers",
        json=customer_body(),
        headers=[(k.encode(), v.encode()) for k, v in admin.items()]
        + [(b"Idempotency-Key", key.encode())],
    )
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_idempotency_key"
    assert await _customers(session) == 0


async def test_a_key_of_255_characters_is_accepted(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    headers = _with_key(admin, "k" * 255)
    assert (await client.post("/v1/customers", json=customer_body(), headers=headers)).is_success
    again = await client.post("/v1/customers", json=customer_body(), headers=headers)
    assert again.headers["idempotent-replayed"] == "true"


async def test_a_delete_is_replayed_too(
    client: httpx.AsyncClient, admin: Headers, make_key: KeyFactory
) -> None:
    created = await client.post("/v1/api-keys", json={"name": "n", "role": "crm"}, headers=admin)
    key_id = created.json()["id"]
    headers = _with_key(admin, "revoke-once")
    first = await client.delete(f"/v1/api-keys/{key_id}", headers=headers)
    again = await client.delete(f"/v1/api-keys/{key_id}", headers=headers)
    assert first.is_success, first.text
    assert (again.status_code, again.content) == (first.status_code, first.content)
    assert again.headers["idempotent-replayed"] == "true"


async def test_a_get_ignores_the_key(client: httpx.AsyncClient, admin: Headers) -> None:
    headers = _with_key(admin, "k-get")
    listed = await client.get("/v1/customers", headers=headers)
    assert listed.status_code == 200
    assert "idempotent-replayed" not in (await client.get("/v1/customers", headers=headers)).headers
