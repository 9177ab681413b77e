"""Entries as the API shows them: the actor's name and role looked up from its key."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import log
from app.auth.repository import key_names
from app.auth.service import ENV_ADMIN_KEY_ID
from app.core.database import Database

# Actors that are not keys: the configured admin key and the command line's jobs.
INTERNAL = {ENV_ADMIN_KEY_ID: "SCMS_ADMIN_API_KEY", "cli": "scms command line"}

Names = dict[str, tuple[str, str]]


async def names_for(session: AsyncSession, key_ids: Iterable[str], known: Names) -> Names:
    """``known`` completed with the keys among ``key_ids`` it lacks."""
    missing = {k for k in key_ids if k not in known}
    if missing:
        known.update(await key_names(session, missing))
    return known


def actor(key_id: str, names: Names) -> dict[str, Any]:
    if key_id in names:
        name, role = names[key_id]
        return {"key_id": key_id, "name": name, "role": role}
    if key_id in INTERNAL or key_id.startswith("system:"):
        return {"key_id": key_id, "name": INTERNAL.get(key_id, key_id), "role": "admin"}
    return {"key_id": key_id, "name": None, "role": None}


def rfc3339(value: datetime) -> str:
    """As the JSON API writes instants (pydantic): UTC with ``Z``."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def entry(row: Any, names: Names) -> dict[str, Any]:
    return {
        "id": row.id,
        "seq": row.seq,
        "occurred_at": rfc3339(row.occurred_at),
        "actor": actor(row.actor_key_id, names),
        "action": row.action,
        "resource": {"type": row.resource_type, "id": row.resource_id},
        "customer_id": row.customer_id,
        "before": row.before,
        "after": row.after,
        "request_id": row.request_id,
        "prev_hash": row.prev_hash,
        "hash": row.hash,
    }


def ndjson_line(row: Any, names: Names) -> str:
    """One exported entry: the list's shape, with before/after spliced in as stored."""
    head = {
        "id": row.id,
        "seq": row.seq,
        "occurred_at": rfc3339(row.occurred_at),
        "actor": actor(row.actor_key_id, names),
        "action": row.action,
        "resource": {"type": row.resource_type, "id": row.resource_id},
        "customer_id": row.customer_id,
        "request_id": row.request_id,
        "prev_hash": row.prev_hash,
        "hash": row.hash,
    }
    text = json.dumps(head, ensure_ascii=False, separators=(",", ":"))
    before = row.before_json if row.before_json is not None else "null"
    after = row.after_json if row.after_json is not None else "null"
    return f'{text[:-1]},"before":{before},"after":{after}}}'


async def ndjson(database: Database, filters: log.Filters) -> AsyncIterator[bytes]:
    """The matching entries, oldest first, one JSON object a line, a batch per chunk."""
    names: Names = {}
    async for rows in log.batches(database, filters):
        async with database.sessionmaker() as session:
            await names_for(session, {r.actor_key_id for r in rows}, names)
        yield ("\n".join(ndjson_line(r, names) for r in rows) + "\n").encode()
