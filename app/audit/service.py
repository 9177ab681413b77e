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
from app.core.clock import Clock
from app.core.ids import new_id

_AS_THEY_ARE = frozenset({str, int, bool, float, type(None)})


def plain(value: Any) -> Any:
    if type(value) in _AS_THEY_ARE:  # most values of a snapshot: no test of each kind
        return value
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
) -> chain.Entry:
    """Append an entry to the log; it is linked into the hash chain and inserted when the
    session commits (app/audit/chain.py), so record it outside any SAVEPOINT. The entry
    is its row's values (an ORM object would only be turned back into them: issue 11).
    Its ``seq``, ``prev_hash`` and ``hash`` are the link's: the log holds them, and the
    mapping only when Python linked it (on PostgreSQL a lone entry is linked by the
    database)."""
    entry: chain.Entry = {
        "id": new_id("aud"),
        "occurred_at": clock.now(),
        "actor_key_id": actor_key_id,
        "action": action,
        "resource_type": resource_type,
        "resource_id": resource_id,
        "customer_id": customer_id or customer_of(resource_type, resource_id, before, after),
        "before": plain(before) if before is not None else None,
        "after": plain(after) if after is not None else None,
        "request_id": request_id,
    }
    chain.defer(session.sync_session, entry)
    return entry
