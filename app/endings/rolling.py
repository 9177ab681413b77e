"""The daily roll (R-TERM-2, R-TERM-4): record renewals and terminations whose dates have
passed. Reads never depend on it (terms and statuses are derived from dates); it writes
the history and the stored status. Idempotent: safe to run daily, or twice, or late."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from app.audit.service import snapshot
from app.auth.roles import Role
from app.auth.service import Principal
from app.contracts import events
from app.contracts.models import Contract
from app.contracts.states import Status
from app.core.clock import Clock
from app.core.database import Database
from app.endings.terminations import mark_terminated
from app.pricing.calendar import first_term_end, next_term_end

SYSTEM = Principal(key_id="system:roll", role=Role.ADMIN)
BATCH = 500


@dataclass
class RollResult:
    contracts: int = 0
    renewed: int = 0
    terminated: int = 0


def renewal_starts(contract: Contract, until: date) -> list[date]:
    """The start of every renewed term that has begun on or before ``until``."""
    assert contract.onboarding_started_on is not None
    end = first_term_end(contract.onboarding_started_on)
    starts = []
    while end < until:
        starts.append(end + timedelta(days=1))
        end = next_term_end(end)
    return starts


async def roll(database: Database, as_of: date, clock: Clock) -> RollResult:
    result = RollResult()
    after = ""
    while True:
        async with database.sessionmaker.begin() as session:
            stmt = (
                select(Contract)
                .where(Contract.status == Status.ACTIVE.value, Contract.id > after)
                .order_by(Contract.id)
                .limit(BATCH)
                .with_for_update()
            )
            batch = list((await session.scalars(stmt)).all())
            for contract in batch:
                result.contracts += 1
                end = contract.termination_effective_on
                # A term that begins after the termination date never starts.
                until = min(as_of, end) if end is not None else as_of
                starts = renewal_starts(contract, until)
                for number, start in enumerate(starts, start=1):
                    if number <= contract.renewals_recorded:
                        continue
                    before = snapshot(contract)
                    contract.renewals_recorded = number
                    await events.changed(
                        session,
                        contract,
                        event="contract.renewed",
                        business_date=start,
                        actor=SYSTEM,
                        clock=clock,
                        before=before,
                        payload={
                            "renewal": number,
                            "term_start_on": start,
                            "term_end_on": next_term_end(start - timedelta(days=1)),
                        },
                    )
                    result.renewed += 1
                if end is not None and end < as_of:
                    await mark_terminated(session, contract, SYSTEM, clock)
                    result.terminated += 1
        if len(batch) < BATCH:
            return result
        after = batch[-1].id
