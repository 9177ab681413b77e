"""The hash chain of the operation log (issue 13 §3): tamper-evident, never forked.

An entry's hash is the SHA-256 of a canonical JSON text of everything it records and of
the hash of the entry before it. Appending takes the chain-head row first, with an
UPDATE: on PostgreSQL that locks the row until the transaction ends, on SQLite it takes
the database's write lock, so concurrent writers queue and each sees the head the one
before it left. A purge moves the anchor (the newest purged entry's seq and hash) so that
the chain still verifies from the first kept entry.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditChainHead

GENESIS_HASH = "0" * 64
HEAD_ID = 1


def instant_text(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def entry_hash(
    *,
    seq: int,
    id: str,
    occurred_at: datetime,
    actor_key_id: str,
    action: str,
    resource_type: str,
    resource_id: str,
    customer_id: str | None,
    before: Any,
    after: Any,
    request_id: str | None,
    prev_hash: str,
) -> str:
    """The hash of one entry; the migration that started the chain froze this rule."""
    text = json.dumps(
        [
            seq,
            id,
            instant_text(occurred_at),
            actor_key_id,
            action,
            resource_type,
            resource_id,
            customer_id,
            before,
            after,
            request_id,
            prev_hash,
        ],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Link:
    seq: int
    prev_hash: str


async def take_next(session: AsyncSession) -> Link:
    """Lock the head and reserve the next seq; :func:`advance` must follow in the same
    transaction with the new entry's hash."""
    stmt = (
        update(AuditChainHead)
        .where(AuditChainHead.id == HEAD_ID)
        .values(last_seq=AuditChainHead.last_seq + 1)
        .returning(AuditChainHead.last_seq, AuditChainHead.last_hash)
    )
    row = (await session.execute(stmt)).one()
    return Link(seq=int(row[0]), prev_hash=str(row[1]))


async def advance(session: AsyncSession, new_hash: str) -> None:
    await session.execute(
        update(AuditChainHead).where(AuditChainHead.id == HEAD_ID).values(last_hash=new_hash)
    )
