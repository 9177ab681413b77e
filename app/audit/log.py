"""Reading the operation log, exporting it, purging it and checking its chain (issue 13 §3).

Nothing here, nor anywhere else, updates an entry; :func:`purge_expired` is the only
code that deletes one, and it removes the oldest entries only, in ``seq`` order, moving
the chain's anchor with them so that the kept entries still verify (app/audit/chain.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, Text, cast, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from app.audit import chain
from app.audit.models import AuditChainHead, AuditRecord
from app.core.clock import Clock
from app.core.database import Database
from app.core.pagination import PageParams, paginate

# Rows a batch of the export (and of verify's walk) holds: with its JSON texts, the line
# built from it and the encoded chunk, each entry is a few KiB alive at once; 2,000 of them
# cost the exporting process about 30 MiB of its 100 MB (issue 13 §3), 500 about 12 MiB,
# at the same entries per second (bench/audit_export_bench.py).
EXPORT_BATCH = 500
PURGE_BATCH = 10_000
_table = AuditRecord.__table__
# The export copies the stored JSON of before/after as it is: no decoding, no encoding.
_EXPORTED = [
    *(c for c in _table.c if c.name not in ("before", "after")),
    cast(_table.c.before, Text).label("before_json"),
    cast(_table.c.after, Text).label("after_json"),
]


@dataclass(frozen=True, slots=True)
class Filters:
    """What to list: a time window, an actor (key id), a resource (object id), an action,
    and the customer a portal key is bound to."""

    since: datetime | None = None
    until: datetime | None = None
    actor: str | None = None
    resource: str | None = None
    action: str | None = None
    customer_id: str | None = None

    def where(self) -> list[ColumnElement[bool]]:
        clauses: list[ColumnElement[bool]] = []
        if self.since is not None:
            clauses.append(AuditRecord.occurred_at >= self.since)
        if self.until is not None:
            clauses.append(AuditRecord.occurred_at < self.until)
        if self.actor is not None:
            clauses.append(AuditRecord.actor_key_id == self.actor)
        if self.resource is not None:
            clauses.append(AuditRecord.resource_id == self.resource)
        if self.action is not None:
            clauses.append(AuditRecord.action == self.action)
        if self.customer_id is not None:
            clauses.append(AuditRecord.customer_id == self.customer_id)
        return clauses


def _seq_key(value: Any) -> int:
    """The cursor holds the seq as text, as the API wrote it."""
    if not isinstance(value, str) or not value.isdigit() or not 0 < int(value) < 2**62:
        raise ValueError("not a key this API writes")
    return int(value)


async def page(
    session: AsyncSession, filters: Filters, params: PageParams
) -> tuple[list[AuditRecord], str | None]:
    """Newest first (by ``seq``, the order the entries were written)."""
    return await paginate(
        session,
        select(AuditRecord).where(*filters.where()),
        keys=[AuditRecord.seq],
        key_of=lambda r: [str(r.seq)],
        params=params,
        parse=[_seq_key],
    )


async def batches(
    database: Database, filters: Filters, *, size: int = EXPORT_BATCH
) -> AsyncIterator[Sequence[Row[Any]]]:
    """Every matching entry, oldest first, as plain rows in batches of ``size``, with
    ``before_json`` and ``after_json`` the stored JSON texts.

    Constant memory whatever the log's length: each batch is a keyset query of its own
    short transaction (no ORM identity map, no lock held while the client reads), and
    the walk stops at the newest entry that existed when it began.
    """
    async with database.sessionmaker() as session:
        newest = await session.scalar(select(func.max(AuditRecord.seq)))
        await session.rollback()
        if newest is None:
            return
        after = 0
        while True:
            stmt = (
                select(*_EXPORTED)
                .where(*filters.where(), AuditRecord.seq > after, AuditRecord.seq <= newest)
                .order_by(AuditRecord.seq)
                .limit(size)
            )
            rows = (await session.execute(stmt)).all()
            await session.rollback()
            if not rows:
                return
            yield rows
            after = rows[-1].seq
            if len(rows) < size:
                return


def cutoff(clock: Clock, retention_days: int) -> datetime:
    """Entries recorded before this instant are past the retention period (Art. 32.3)."""
    return clock.now() - timedelta(days=retention_days)


async def _last_expired_seq(session: AsyncSession, before: datetime) -> int | None:
    return await session.scalar(
        select(func.max(AuditRecord.seq)).where(AuditRecord.occurred_at < before)
    )


async def count_expired(database: Database, *, clock: Clock, retention_days: int) -> int:
    """How many entries :func:`purge_expired` would remove now (``--dry-run``)."""
    async with database.sessionmaker() as session:
        last = await _last_expired_seq(session, cutoff(clock, retention_days))
        if last is None:
            return 0
        return int(
            await session.scalar(
                select(func.count()).select_from(AuditRecord).where(AuditRecord.seq <= last)
            )
            or 0
        )


async def purge_expired(
    database: Database, *, clock: Clock, retention_days: int, batch: int = PURGE_BATCH
) -> int:
    """Delete the entries older than ``retention_days`` days; the number deleted.

    The oldest entries go first, ``batch`` at a time, each batch its own transaction that
    holds the chain head (so writers wait a moment, never long) and moves the anchor to
    the newest entry it removed: the first kept entry's ``prev_hash`` is the anchor's
    hash, and ``verify`` starts there. Everything up to the newest expired entry goes,
    so the kept entries stay one unbroken chain. Run daily by the worker.
    """
    before = cutoff(clock, retention_days)
    removed = 0
    while True:
        async with database.sessionmaker() as session:
            # Lock the head first: appends and other purges wait for this batch.
            await session.execute(
                update(AuditChainHead)
                .where(AuditChainHead.id == chain.HEAD_ID)
                .values(anchor_seq=AuditChainHead.anchor_seq)
            )
            last = await _last_expired_seq(session, before)
            if last is None:
                await session.commit()
                return removed
            upto = min(
                last,
                int(await session.scalar(select(func.min(AuditRecord.seq))) or last) + batch - 1,
            )
            anchor = (
                await session.execute(
                    select(AuditRecord.seq, AuditRecord.hash)
                    .where(AuditRecord.seq <= upto)
                    .order_by(AuditRecord.seq.desc())
                    .limit(1)
                )
            ).one()
            result = await session.execute(
                delete(AuditRecord).where(AuditRecord.seq <= upto),
                execution_options={"synchronize_session": False},
            )
            await session.execute(
                update(AuditChainHead)
                .where(AuditChainHead.id == chain.HEAD_ID)
                .values(anchor_seq=anchor.seq, anchor_hash=anchor.hash)
            )
            await session.commit()
            removed += int(getattr(result, "rowcount", 0) or 0)
            if upto >= last:
                return removed


@dataclass(frozen=True, slots=True)
class Verification:
    """What ``verify`` found: the entries checked and, when broken, where and why."""

    checked: int
    first_seq: int | None
    last_seq: int
    broken_at: int | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


async def verify(database: Database) -> Verification:
    """Walk the chain from the anchor to the head: every seq present, every entry's
    hash its content's, every ``prev_hash`` its predecessor's hash."""
    async with database.sessionmaker() as session:
        head = (
            await session.execute(
                select(
                    AuditChainHead.last_seq,
                    AuditChainHead.last_hash,
                    AuditChainHead.anchor_seq,
                    AuditChainHead.anchor_hash,
                ).where(AuditChainHead.id == chain.HEAD_ID)
            )
        ).one()
        await session.rollback()
    expected_seq, prev = int(head.anchor_seq) + 1, str(head.anchor_hash)
    checked, first = 0, None
    async for rows in _walk(database, after=int(head.anchor_seq), upto=int(head.last_seq)):
        for row in rows:
            first = row.seq if first is None else first
            if row.seq != expected_seq:
                return _broken(checked, first, expected_seq, "entry missing")
            if row.prev_hash != prev:
                return _broken(checked, first, row.seq, "prev_hash is not its predecessor's hash")
            if chain.hash_of(row) != row.hash:
                return _broken(checked, first, row.seq, "content does not match its hash")
            prev, expected_seq, checked = row.hash, expected_seq + 1, checked + 1
    if expected_seq - 1 != head.last_seq or prev != head.last_hash:
        return _broken(checked, first, expected_seq, "entries after this one are missing")
    return Verification(checked=checked, first_seq=first, last_seq=int(head.last_seq))


def _broken(checked: int, first: int | None, seq: int, problem: str) -> Verification:
    return Verification(
        checked=checked, first_seq=first, last_seq=seq, broken_at=seq, problem=problem
    )


async def _walk(database: Database, *, after: int, upto: int) -> AsyncIterator[Sequence[Row[Any]]]:
    async with database.sessionmaker() as session:
        while after < upto:
            stmt = (
                select(_table)
                .where(AuditRecord.seq > after, AuditRecord.seq <= upto)
                .order_by(AuditRecord.seq)
                .limit(EXPORT_BATCH)
            )
            rows = (await session.execute(stmt)).all()
            await session.rollback()
            if not rows:
                return
            yield rows
            after = rows[-1].seq
