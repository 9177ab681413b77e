"""The sandbox's "today": the real clock moved forward by whole days.

The offset is read from the database once per unit of work (a request, a worker's job),
so a request sees one date from start to end and every process sees the date the last
move committed. Outside the sandbox nothing here runs: the real clock answers alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import TOKYO, Clock
from app.core.database import Database
from app.sandbox.models import SandboxClock


@dataclass(frozen=True, slots=True)
class OffsetClock:
    """``base`` (the real clock) ``offset_days`` days later."""

    base: Clock
    offset_days: int

    def now(self) -> datetime:
        return self.base.now() + timedelta(days=self.offset_days)

    def today(self) -> date:
        return self.now().astimezone(TOKYO).date()


class FollowingClock:
    """A long-running process's sandbox clock (the worker): the real clock plus an offset
    it refreshes from the database (:meth:`follow`), so that leases, queued jobs and the
    daily roll all read the date the API processes read."""

    def __init__(self, base: Clock, offset_days: int = 0) -> None:
        self.base, self.offset_days = base, offset_days

    def now(self) -> datetime:
        return self.base.now() + timedelta(days=self.offset_days)

    def today(self) -> date:
        return self.now().astimezone(TOKYO).date()

    async def follow(self, database: Database) -> None:
        async with database.sessionmaker() as session:
            self.offset_days = await offset_in(session)


async def offset_in(session: AsyncSession) -> int:
    offset = await session.scalar(select(SandboxClock.offset_days).where(SandboxClock.id == 1))
    return offset or 0


async def sandbox_clock(database: Database, base: Clock) -> OffsetClock:
    """The clock of one unit of work: the real one plus the stored offset."""
    async with database.sessionmaker() as session:
        return OffsetClock(base, await offset_in(session))


async def claim_offset(session: AsyncSession, old: int, new: int, moved_at: datetime) -> bool:
    """Compare-and-set the offset from ``old`` to ``new``; False when another move got
    there first (the caller's transaction then changes nothing)."""
    if old == 0 and await session.get(SandboxClock, 1) is None:
        try:
            async with session.begin_nested():
                session.add(SandboxClock(id=1, offset_days=new, moved_at=moved_at))
            return True
        except IntegrityError:  # the first move of another process inserted it
            return False
    moved: CursorResult[Any] = await session.execute(  # type: ignore[assignment]
        update(SandboxClock)
        .where(SandboxClock.id == 1, SandboxClock.offset_days == old)
        .values(offset_days=new, moved_at=moved_at)
        .execution_options(synchronize_session=False)
    )
    return moved.rowcount == 1
