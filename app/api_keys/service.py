"""Issuing and revoking API keys (the admin's /v1/api-keys resource).

A key is shown once, when it is created; the service keeps its SHA-256 hash
(``app.auth.service.hash_key``), which every request is looked up by.
"""

from __future__ import annotations

import secrets

from sqlalchemy.ext.asyncio import AsyncSession

from app.api_keys.schemas import ApiKeyCreate
from app.audit import service as audit
from app.auth.models import ApiKey
from app.auth.repository import ApiKeyRepository
from app.auth.service import KEY_PREFIX, Principal, hash_key
from app.auth.verified import verified_keys
from app.core.clock import Clock
from app.core.errors import Conflict, NotFound, Unprocessable
from app.core.ids import new_id
from app.customers.models import Customer


def generate_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def _audited(key: ApiKey) -> dict[str, object]:
    # The hash is no secret in itself, but the operation log has no use for it.
    return {k: v for k, v in audit.snapshot(key).items() if k != "key_hash"}


async def create_key(
    session: AsyncSession, data: ApiKeyCreate, clock: Clock, actor: Principal | None = None
) -> tuple[ApiKey, str]:
    if data.customer_id is not None and await session.get(Customer, data.customer_id) is None:
        # A portal key sees one customer's data (R-PTN-3); bound to an id no customer has,
        # it is a typo that would only show up as empty answers (issue 9 §8): refused.
        raise Unprocessable(
            f"No customer {data.customer_id}: a portal key must be bound to an existing customer.",
            code="customer_not_found",
            rule="R-PTN-3",
            field="customer_id",
            customer_id=data.customer_id,
        )
    secret = generate_key()
    key = ApiKey(
        id=new_id("key"),
        name=data.name,
        role=data.role.value,
        customer_id=data.customer_id,
        key_hash=hash_key(secret),
        key_prefix=secret[:12],
        created_at=clock.now(),
    )
    await ApiKeyRepository(session).add(key)
    if actor is not None:
        await audit.record(
            session,
            clock=clock,
            actor_key_id=actor.key_id,
            action="api_keys.create",
            resource_type="api_key",
            resource_id=key.id,
            before=None,
            after=_audited(key),
            request_id=actor.request_id,
        )
    return key, secret


async def revoke_key(
    session: AsyncSession, key_id: str, clock: Clock, actor: Principal | None = None
) -> ApiKey:
    repo = ApiKeyRepository(session)
    key = await repo.get(key_id)
    if key is None:
        raise NotFound(f"No API key {key_id}.", code="api_key_not_found")
    if key.revoked_at is not None:
        raise Conflict(f"API key {key_id} is already revoked.", code="api_key_revoked")
    before = _audited(key)
    key.revoked_at = clock.now()
    await session.flush()
    verified_keys.forget(key.id)  # at once here; other processes within their cache's ttl
    if actor is not None:
        await audit.record(
            session,
            clock=clock,
            actor_key_id=actor.key_id,
            action="api_keys.revoke",
            resource_type="api_key",
            resource_id=key.id,
            before=before,
            after=_audited(key),
            request_id=actor.request_id,
        )
    return key
