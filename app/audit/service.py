"""Writing audit records. Features call :func:`record` from their services.

Snapshots are plain JSON: dates and datetimes as ISO strings, so that the log reads the
same whatever database stores it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import chain
from app.audit.models import AuditRecord
from app.core.clock import Clock
from app.core.ids import new_id


def plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def snapshot(entity: object) -> dict[str, Any]:
    """The column values of an ORM object, JSON-ready (relationships are not followed)."""
    mapper = inspect(type(entity))
    return {attr.key: plain(getattr(entity, attr.key)) for attr in mapper.column_attrs}


def customer_of(
    resource_type: str,
    resource_id: str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
) -> str | None:
    """The customer an entry belongs to when the caller does not say: the customer
    itself, or the ``customer_id`` its snapshot carries (contracts, invoices, keys)."""
    if resource_type == "customer":
        return resource_id
    for values in (after, before):
        if values is not None and isinstance(values.get("customer_id"), str):
            return str(values["customer_id"])
    return None


async def record(
    session: AsyncSession,
    *,
    clock: Clock,
    actor_key_id: str,
    action: str,
    resource_type: str,
    resource_id: str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    request_id: str | None = None,
    customer_id: str | None = None,
) -> AuditRecord:
    """Append an entry to the log and to its hash chain (app/audit/chain.py)."""
    link = await chain.take_next(session)
    entry = AuditRecord(
        id=new_id("aud"),
        seq=link.seq,
        occurred_at=clock.now(),
        actor_key_id=actor_key_id,
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        customer_id=customer_id or customer_of(resource_type, resource_id, before, after),
        before=plain(before) if before is not None else None,
        after=plain(after) if after is not None else None,
        request_id=request_id,
        prev_hash=link.prev_hash,
    )
    entry.hash = chain.entry_hash(
        seq=entry.seq,
        id=entry.id,
        occurred_at=entry.occurred_at,
        actor_key_id=entry.actor_key_id,
        action=entry.action,
        resource_type=entry.resource_type,
        resource_id=entry.resource_id,
        customer_id=entry.customer_id,
        before=entry.before,
        after=entry.after,
        request_id=entry.request_id,
        prev_hash=entry.prev_hash,
    )
    await chain.advance(session, entry.hash)
    session.add(entry)
    await session.flush()
    return entry
