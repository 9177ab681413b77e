"""Issue 11: readers reach the pool first come, first served, and a wait for a turn is
bounded as the pool's own wait is, ending in the outage's 503.

Without the turns, SQLAlchemy's pool let a request that arrived while a woken waiter was
on its way take the connection, and the waiter queued again at the end: under load, the
p99 went to seconds and some requests timed out.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import nullcontext
from pathlib import Path

import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app.core.database import Database, FairTurns
from app.core.outage import is_database_unavailable


async def test_issue_11_turns_are_served_in_the_order_they_were_asked_for() -> None:
    turns = FairTurns(size=1, timeout=5)
    served: list[str] = []
    holding = asyncio.Event()
    release = asyncio.Event()

    async def first() -> None:
        async with turns.turn():
            holding.set()
            await release.wait()
            served.append("first")

    async def reader(name: str) -> None:
        async with turns.turn():
            served.append(name)
            await asyncio.sleep(0)

    holder = asyncio.create_task(first())
    await holding.wait()
    waiting = [asyncio.create_task(reader(f"queued-{i}")) for i in range(3)]
    await asyncio.sleep(0)  # all three are queued
    release.set()
    # A reader that comes as the turn is handed on must not pass those who queued.
    latecomer = asyncio.create_task(reader("latecomer"))
    await asyncio.gather(holder, latecomer, *waiting)
    assert served == ["first", "queued-0", "queued-1", "queued-2", "latecomer"]


async def test_issue_11_at_most_size_readers_hold_a_turn_at_once() -> None:
    turns = FairTurns(size=3, timeout=5)
    inside = peak = 0

    async def reader() -> None:
        nonlocal inside, peak
        async with turns.turn():
            inside += 1
            peak = max(peak, inside)
            await asyncio.sleep(0.001)
            inside -= 1

    await asyncio.gather(*(reader() for _ in range(20)))
    assert peak == 3


async def test_issue_11_a_turn_not_given_within_the_pool_timeout_is_an_outage() -> None:
    turns = FairTurns(size=1, timeout=0.2)
    async with turns.turn():
        started = time.monotonic()
        with pytest.raises(sa_exc.TimeoutError) as raised:
            async with turns.turn():
                pass
        assert 0.15 < time.monotonic() - started < 2
    assert is_database_unavailable(raised.value)  # answered 503 database_unavailable
    async with turns.turn():  # the timed-out waiter left nothing behind
        pass


async def test_issue_11_a_database_takes_turns_for_its_read_connections(tmp_path: Path) -> None:
    engine = create_async_engine(
        f"sqlite+aiosqlite:///{tmp_path / 'turns.db'}", pool_size=2, max_overflow=0
    )
    database = Database(engine)
    inside = peak = 0

    async def reader() -> int:
        nonlocal inside, peak
        async with database.read_connection() as connection:
            inside += 1
            peak = max(peak, inside)
            value = await connection.scalar(text("SELECT 1"))
            await asyncio.sleep(0.005)
            inside -= 1
            return int(value or 0)

    try:
        assert await asyncio.gather(*(reader() for _ in range(10))) == [1] * 10
        assert peak == 2
    finally:
        await database.dispose()


async def test_issue_11_a_commit_that_is_a_sessions_first_checkout_takes_a_turn(
    tmp_path: Path,
) -> None:
    """A session that has not reached the database (a customer create, written whole at
    commit) checks out at its commit: it queues for a turn behind the readers before it,
    instead of racing them in the pool's queue. A session holding its connection already
    takes none (it would wait for a turn while holding a connection)."""
    engine = create_async_engine(
        f"sqlite+aiosqlite:///{tmp_path / 'turns.db'}", pool_size=1, max_overflow=0
    )
    database = Database(engine)
    order: list[str] = []
    reading = asyncio.Event()
    release = asyncio.Event()

    async def reader() -> None:
        async with database.read_connection():
            reading.set()
            await release.wait()
            order.append("read")

    async def commit() -> None:
        async with database.sessionmaker() as session, database.commit_turn(session):
            order.append("commit")
            await session.commit()

    try:
        read = asyncio.create_task(reader())
        await reading.wait()
        committed = asyncio.create_task(commit())
        await asyncio.sleep(0.05)
        assert order == []  # the commit waits for the reader's turn
        release.set()
        await asyncio.gather(read, committed)
        assert order == ["read", "commit"]
        async with database.sessionmaker() as session:
            await session.execute(text("SELECT 1"))
            assert isinstance(database.commit_turn(session), nullcontext)
    finally:
        await database.dispose()
