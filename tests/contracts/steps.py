"""Steps the contract tests share: driving a contract to a state, reading its records."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditRecord
from app.auth.models import ApiKey
from app.auth.service import hash_key
from app.contracts.models import Contract, ContractEvent
from app.core.clock import TOKYO, FixedClock
from tests.support.factories import SIMPLE_MILESTONES, STANDARD_MILESTONES, apply, post_ok

Headers = dict[str, str]
Body = dict[str, Any]


def at(clock: FixedClock, day: date, hour: int = 10, minute: int = 0) -> None:
    """Move the test clock to ``day`` at ``hour:minute`` in Tokyo."""
    clock.instant = datetime(day.year, day.month, day.day, hour, minute, tzinfo=TOKYO)


async def key_id(session: AsyncSession, headers: Headers) -> str:
    """The id of the API key presented by ``headers``."""
    secret = headers["Authorization"].removeprefix("Bearer ")
    found = await session.scalar(select(ApiKey.id).where(ApiKey.key_hash == hash_key(secret)))
    assert found is not None
    return found


async def version_of(session: AsyncSession, contract_id: str) -> int:
    version = await session.scalar(select(Contract.version).where(Contract.id == contract_id))
    assert version is not None
    return version


async def event_count(session: AsyncSession, contract_id: str) -> int:
    stmt = select(func.count()).where(ContractEvent.contract_id == contract_id)
    return (await session.scalar(stmt)) or 0


async def audit_records(session: AsyncSession, resource_id: str) -> list[AuditRecord]:
    """The audit records of one resource, oldest first (ids are time-ordered)."""
    stmt = (
        select(AuditRecord)
        .where(AuditRecord.resource_id == resource_id)
        .order_by(AuditRecord.id)
        .execution_options(populate_existing=True)
    )
    return list((await session.scalars(stmt)).all())


async def events(client: httpx.AsyncClient, contract_id: str, headers: Headers) -> list[Body]:
    """Every event of a contract, newest first (one page of 200)."""
    response = await client.get(
        f"/v1/contracts/{contract_id}/events", params={"limit": 200}, headers=headers
    )
    assert response.status_code == 200, response.text
    items: list[Body] = response.json()["items"]
    return items


async def get_contract(client: httpx.AsyncClient, contract_id: str, headers: Headers) -> Body:
    response = await client.get(f"/v1/contracts/{contract_id}", headers=headers)
    assert response.status_code == 200, response.text
    body: Body = response.json()
    return body


async def accepted(
    client: httpx.AsyncClient, headers: Headers, customer_id: str, **overrides: Any
) -> Body:
    """A new application, accepted (out of order, so earlier ones never block it)."""
    contract = await apply(client, headers, customer_id, **overrides)
    return await post_ok(
        client,
        f"/v1/contracts/{contract['id']}/accept",
        headers,
        {"out_of_order_reason": "test setup"},
    )


async def onboarding(
    client: httpx.AsyncClient,
    headers: Headers,
    customer_id: str,
    *,
    started_on: date = date(2026, 5, 20),
    **overrides: Any,
) -> Body:
    """A new contract whose onboarding started on ``started_on``."""
    contract = await accepted(client, headers, customer_id, **overrides)
    return await post_ok(
        client,
        f"/v1/contracts/{contract['id']}/onboarding/start",
        headers,
        {"started_on": str(started_on)},
    )


def milestone_keys(kind: str) -> tuple[str, ...]:
    return SIMPLE_MILESTONES if kind == "simple" else STANDARD_MILESTONES


async def all_milestones_done(
    client: httpx.AsyncClient, headers: Headers, contract: Body, done_on: date
) -> None:
    for key in milestone_keys(contract["onboarding"]["kind"]):
        await post_ok(
            client,
            f"/v1/contracts/{contract['id']}/onboarding/milestones/{key}",
            headers,
            {"done_on": str(done_on)},
        )


async def inspected(
    client: httpx.AsyncClient, headers: Headers, contract_id: str, on: date
) -> Body:
    """An accepted inspection on ``on`` with its certificate the same day."""
    return await post_ok(
        client,
        f"/v1/contracts/{contract_id}/onboarding/inspections",
        headers,
        {"inspected_on": str(on), "result": "accepted", "certificate_on": str(on)},
    )
