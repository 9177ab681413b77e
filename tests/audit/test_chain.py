"""The operation log's hash chain, its retention purge and its verification (issue 13 §3,
R-PTN-2, Art. 32.3)."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import Table, delete, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import chain, log
from app.audit import service as audit
from app.audit.chain import GENESIS_HASH
from app.audit.models import AuditChainHead, AuditRecord
from app.core.clock import FixedClock
from app.core.commit_writes import insert_at_commit
from app.core.database import Database, create_engine
from app.core.migrations import upgrade
from app.events.models import Event
from tests.support.databases import BoundDatabase, fresh_database, own_postgres

_EVENTS = cast(Table, Event.__table__)


async def _record_one(
    session: AsyncSession,
    clock: FixedClock,
    customer: str,
    n: int = 0,
    after: dict[str, Any] | None = None,
    request_id: str | None = None,
) -> None:
    await audit.record(
        session,
        clock=clock,
        actor_key_id="key_1",
        action="customers.update",
        resource_type="customer",
        resource_id=customer,
        before={"n": n},
        after={"n": n + 1, "名前": "株式会社テスト"} if after is None else after,
        request_id=request_id,
    )


async def _write(database: Database, clock: FixedClock, n: int, customer: str = "cus_a") -> None:
    async with database.sessionmaker() as session:
        for i in range(n):
            await _record_one(session, clock, customer, i)
        await session.commit()


async def _entries(session: AsyncSession) -> list[AuditRecord]:
    return list((await session.scalars(select(AuditRecord).order_by(AuditRecord.seq))).all())


async def test_r_ptn_2_each_entry_carries_the_hash_of_the_one_before(
    database: BoundDatabase, clock: FixedClock, session: AsyncSession
) -> None:
    await _write(database, clock, 5)
    entries = await _entries(session)
    assert [e.seq for e in entries] == list(range(1, 6))
    assert entries[0].prev_hash == GENESIS_HASH
    for before, after in zip(entries, entries[1:], strict=False):
        assert after.prev_hash == before.hash
    result = await log.verify(database)
    assert result.ok
    assert result.checked == 5
    assert result.last_seq == 5


async def test_r_ptn_2_verify_finds_a_changed_entry(
    database: BoundDatabase, clock: FixedClock, session: AsyncSession
) -> None:
    await _write(database, clock, 4)
    await session.execute(update(AuditRecord).where(AuditRecord.seq == 3).values(after={"n": 999}))
    await session.commit()
    result = await log.verify(database)
    assert not result.ok
    assert result.broken_at == 3
    assert result.problem == "content does not match its hash"


async def test_r_ptn_2_verify_finds_a_removed_entry_and_a_removed_newest_entry(
    database: BoundDatabase, clock: FixedClock, session: AsyncSession
) -> None:
    await _write(database, clock, 4)
    await session.execute(delete(AuditRecord).where(AuditRecord.seq == 4))
    await session.commit()
    tail = await log.verify(database)
    assert tail.problem == "entries after this one are missing"
    await session.execute(delete(AuditRecord).where(AuditRecord.seq == 2))
    await session.commit()
    middle = await log.verify(database)
    assert middle.broken_at == 2
    assert middle.problem == "entry missing"


async def test_r_ptn_2_purge_removes_only_entries_past_the_retention_and_the_chain_still_verifies(
    database: BoundDatabase, clock: FixedClock, session: AsyncSession
) -> None:
    old = FixedClock(clock.instant - timedelta(days=91))
    await _write(database, old, 3)
    await _write(database, FixedClock(clock.instant - timedelta(days=89)), 2)
    assert await log.count_expired(database, clock=clock, retention_days=90) == 3
    removed = await log.purge_expired(database, clock=clock, retention_days=90, batch=2)
    assert removed == 3
    kept = await _entries(session)
    assert [e.seq for e in kept] == [4, 5]
    head = await session.get(AuditChainHead, 1)
    assert head is not None
    assert head.anchor_seq == 3
    assert kept[0].prev_hash == head.anchor_hash  # the first kept entry's predecessor
    result = await log.verify(database)
    assert result.ok
    assert result.first_seq == 4
    assert result.checked == 2
    # Nothing is left to purge; writing goes on from the same chain.
    assert await log.purge_expired(database, clock=clock, retention_days=90) == 0
    await _write(database, clock, 1)
    assert (await log.verify(database)).ok


async def test_r_ptn_2_purge_honours_the_configured_retention(
    database: BoundDatabase, clock: FixedClock
) -> None:
    await _write(database, FixedClock(clock.instant - timedelta(days=8)), 2)
    assert await log.count_expired(database, clock=clock, retention_days=90) == 0
    assert await log.purge_expired(database, clock=clock, retention_days=7) == 2


async def test_r_ptn_2_a_removed_first_entry_after_a_purge_is_noticed(
    database: BoundDatabase, clock: FixedClock, session: AsyncSession
) -> None:
    await _write(database, FixedClock(clock.instant - timedelta(days=100)), 2)
    await _write(database, clock, 3)
    await log.purge_expired(database, clock=clock, retention_days=90)
    await session.execute(delete(AuditRecord).where(AuditRecord.seq == 3))
    await session.commit()
    result = await log.verify(database)
    assert result.broken_at == 3
    assert result.problem == "entry missing"


async def test_r_ptn_2_concurrent_writers_never_fork_the_chain(
    db_kind: str, tmp_path: Path, clock: FixedClock
) -> None:
    """Eight transactions append at once on their own connections: each waits for the
    chain head, so the seqs are 1..N without gaps and every prev_hash is its
    predecessor's (SQLite: the write lock; PostgreSQL: the head row's lock)."""
    async with fresh_database(db_kind, tmp_path) as url:
        await asyncio.to_thread(upgrade, url)
        engine = create_engine(url, pool_size=8)
        database = Database(engine)
        try:
            await asyncio.gather(
                *(_write(database, clock, 3, customer=f"cus_{i}") for i in range(8))
            )
            result = await log.verify(database)
            assert result.ok, result
            assert result.checked == 24
            assert result.last_seq == 24
        finally:
            await engine.dispose()


def _postgres_only(db_kind: str) -> None:
    if db_kind != "postgres":
        pytest.skip("PostgreSQL links a transaction's one entry itself")


async def test_r_ptn_2_lone_entries_linked_by_postgresql_never_fork_the_chain(
    db_kind: str, tmp_path: Path, clock: FixedClock
) -> None:
    """Issue 11: a transaction's one entry is linked by PostgreSQL inside the commit's
    statement (the head locked, moved and hashed there). Twelve such commits at once,
    beside four transactions of three entries linked by Python, three rounds, take the
    head in turn: seqs 1..N without gaps, every hash its entry's and every prev_hash its
    predecessor's."""
    _postgres_only(db_kind)
    async with own_postgres(tmp_path, pool_size=16) as database:
        for _ in range(3):
            await asyncio.gather(
                *(_write(database, clock, 1, customer=f"cus_lone_{i}") for i in range(12)),
                *(_write(database, clock, 3, customer=f"cus_three_{i}") for i in range(4)),
            )
        result = await log.verify(database)
        assert result.ok, result
        assert result.checked == result.last_seq == 3 * (12 + 4 * 3)


async def test_r_ptn_2_the_database_hashes_an_entry_as_python_does(
    db_kind: str, tmp_path: Path, clock: FixedClock
) -> None:
    """Whatever the text holds (quotes, backslashes, line breaks, U+2028, characters
    beyond the BMP, keys out of order), the hash PostgreSQL computes is hash_of's."""
    tricky = {"z": 'a "quoted" \\ back\nslash', "a": "\u2028 😀 株式会社", "m": [1, None, True]}
    _postgres_only(db_kind)
    async with own_postgres(tmp_path) as database:
        async with database.sessionmaker() as session:
            await _record_one(session, clock, "cus_tricky", after=tricky, request_id='req-"1"')
            await session.commit()
        async with database.sessionmaker() as session:
            (entry,) = await _entries(session)
        assert entry.after == tricky
        assert (entry.seq, entry.prev_hash) == (1, GENESIS_HASH)
        assert entry.hash == chain.hash_of(entry)
        assert (await log.verify(database)).ok


async def test_r_ptn_2_without_a_chain_head_a_lone_entry_refuses_its_whole_commit(
    db_kind: str, tmp_path: Path, clock: FixedClock
) -> None:
    """No head to move would insert no entry: the statement is refused instead (the
    entry's seq is NOT NULL), and with it the change written beside the entry."""
    _postgres_only(db_kind)
    async with own_postgres(tmp_path) as database:
        async with database.engine.begin() as connection:
            await connection.execute(delete(AuditChainHead))
        async with database.sessionmaker() as session:
            await _record_one(session, clock, "cus_a")
            insert_at_commit(session, _EVENTS, _event_row())
            with pytest.raises(IntegrityError):
                await session.commit()
            await session.rollback()
        async with database.sessionmaker() as session:
            assert await _entries(session) == []
            assert await session.scalar(select(func.count()).select_from(Event)) == 0


def _event_row() -> dict[str, object]:
    return {
        "id": "evt_1",
        "type": "customer.updated",
        "occurred_at": datetime(2026, 6, 15, tzinfo=UTC),
        "customer_id": None,
        "resource_type": "customer",
        "resource_id": "cus_a",
        "data": {},
        "request_id": None,
        "dispatched_at": None,
    }


async def test_r_ptn_2_an_open_transaction_does_not_hold_the_chain_for_other_writers(
    db_kind: str, tmp_path: Path, clock: FixedClock
) -> None:
    """The head is taken when a transaction commits, not when it records: a long
    transaction (a batch of the daily roll) does not stop every other writer. The chain
    follows the order of the commits."""
    async with fresh_database(db_kind, tmp_path) as url:
        await asyncio.to_thread(upgrade, url)
        engine = create_engine(url, pool_size=4)
        database = Database(engine)
        try:
            async with database.sessionmaker() as slow:
                await _record_one(slow, clock, "cus_slow")
                await asyncio.wait_for(_write(database, clock, 2, customer="cus_quick"), 10)
                await slow.commit()
            async with database.sessionmaker() as session:
                entries = await _entries(session)
            assert [(e.seq, e.resource_id) for e in entries] == [
                (1, "cus_quick"),
                (2, "cus_quick"),
                (3, "cus_slow"),
            ]
            assert (await log.verify(database)).ok
        finally:
            await engine.dispose()


async def test_r_ptn_2_a_lone_entry_among_more_rows_than_one_statement_takes_is_linked(
    database: BoundDatabase, clock: FixedClock, session: AsyncSession
) -> None:
    """A commit of more rows than one statement holds (a batch's events) writes them an
    executemany per table; its one entry's link is then a statement of its own."""
    async with database.sessionmaker() as writer:
        await _record_one(writer, clock, "cus_batch")
        for n in range(20):
            insert_at_commit(writer, _EVENTS, _event_row() | {"id": f"evt_{n:02d}"})
        await writer.commit()
    entries = await _entries(session)
    assert [(e.seq, e.prev_hash) for e in entries] == [(1, GENESIS_HASH)]
    assert (await log.verify(database)).ok
    assert await session.scalar(select(func.count()).select_from(Event)) == 20


async def test_r_ptn_2_a_rolled_back_transaction_leaves_no_entry_and_no_gap(
    database: BoundDatabase, clock: FixedClock, session: AsyncSession
) -> None:
    async with database.sessionmaker() as writer:
        await _record_one(writer, clock, "cus_gone")
        await writer.rollback()
        await _record_one(writer, clock, "cus_kept")
        await writer.commit()
    entries = await _entries(session)
    assert [(e.seq, e.resource_id, e.prev_hash) for e in entries] == [(1, "cus_kept", GENESIS_HASH)]


async def test_an_entry_is_not_recorded_inside_a_savepoint(
    database: BoundDatabase, clock: FixedClock
) -> None:
    """A rolled-back SAVEPOINT could not take back an entry kept for the commit: refused."""
    async with database.sessionmaker() as writer, writer.begin_nested():
        with pytest.raises(RuntimeError, match="outside SAVEPOINTs"):
            await _record_one(writer, clock, "cus_1")


def test_r_ptn_2_no_code_path_updates_or_deletes_an_entry_except_the_purge(
    project_root: Path,
) -> None:
    pattern = re.compile(
        r"(update|delete)\(\s*(AuditRecord|_table)\b|(UPDATE|DELETE FROM)\s+audit_records",
        re.IGNORECASE,
    )
    offenders = []
    for path in (project_root / "app").rglob("*.py"):
        relative = path.relative_to(project_root).as_posix()
        if relative.startswith("app/migrations/"):
            continue  # the migration that started the chain numbered the entries it found
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if pattern.search(line) and not line.lstrip().startswith(("#", '"')):
                offenders.append(f"{relative}:{number}: {line.strip()}")
    allowed = [o for o in offenders if o.startswith("app/audit/log.py") and "delete(" in o]
    assert sorted(set(offenders) - set(allowed)) == []
    assert len(allowed) == 1  # purge_expired's one DELETE


async def test_an_entry_without_a_stored_customer_names_none(
    database: BoundDatabase, clock: FixedClock, session: AsyncSession
) -> None:
    async with database.sessionmaker() as writer:
        entry = await audit.record(
            writer,
            clock=clock,
            actor_key_id="key_1",
            action="price_books.create",
            resource_type="price_book",
            resource_id="pb_1",
            before=None,
            after={"effective_from": "2026-12-01"},
        )
        await writer.commit()
    assert entry["customer_id"] is None
    raw = await session.execute(text("SELECT customer_id FROM audit_records"))
    assert raw.scalars().all() == [None]
