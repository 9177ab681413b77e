"""What the bill run needs of contracts: who bills in a month, and their timelines.

Loaded in batches with three queries (contracts, licence changes, options) of plain
columns, no ORM objects, so a bill run over 100,000 contracts costs a few hundred round
trips and little memory.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.charges import service as charges
from app.contracts.models import Contract, ContractOption, LicenceChange
from app.contracts.states import Status
from app.core.sql import among
from app.pricing.calendar import Month
from app.pricing.errors import PricingError
from app.pricing.recurring import OptionPeriod, ServiceTimeline

BILLING_STATUSES = (Status.ACTIVE.value, Status.TERMINATED.value)

# A contract whose timeline cannot be built (inconsistent stored data), and why.
OnError = Callable[[str, PricingError], None]


@dataclass(frozen=True, slots=True)
class BillingSubject:
    contract_id: str
    customer_id: str
    timeline: ServiceTimeline


def service_timeline(
    plan: str,
    license_ids: int,
    service_start_on: date,
    service_end_on: date | None,
    licence_changes: Sequence[tuple[date, int]],
    options: Sequence[tuple[str, date, date | None]],
) -> ServiceTimeline:
    changes = [(service_start_on, license_ids), *sorted(licence_changes)]
    return ServiceTimeline(
        plan=plan,
        service_start_on=service_start_on,
        service_end_on=service_end_on,
        licence_changes=tuple(changes),
        option_periods=tuple(OptionPeriod(o, s, e) for o, s, e in options),
    )


def timeline_of(
    contract: Contract,
    licence_changes: Sequence[LicenceChange],
    options: Sequence[ContractOption],
) -> ServiceTimeline:
    """The contract's service period, licence history and option periods (R-CHG-1/2)."""
    assert contract.service_start_on is not None
    return service_timeline(
        contract.plan,
        contract.license_ids,
        contract.service_start_on,
        contract.termination_effective_on,
        [(c.effective_on, c.license_ids) for c in licence_changes],
        [(o.option, o.starts_on, o.ends_on) for o in options],
    )


async def _histories(
    session: AsyncSession, ids: Sequence[str]
) -> tuple[dict[str, list[tuple[date, int]]], dict[str, list[tuple[str, date, date | None]]]]:
    changes: dict[str, list[tuple[date, int]]] = defaultdict(list)
    options: dict[str, list[tuple[str, date, date | None]]] = defaultdict(list)
    if ids:
        rows = await session.execute(
            select(
                LicenceChange.contract_id, LicenceChange.effective_on, LicenceChange.license_ids
            ).where(among(session, LicenceChange.contract_id, ids))
        )
        for contract_id, effective_on, license_ids in rows:
            changes[contract_id].append((effective_on, license_ids))
        option_rows = await session.execute(
            select(
                ContractOption.contract_id,
                ContractOption.option,
                ContractOption.starts_on,
                ContractOption.ends_on,
            ).where(among(session, ContractOption.contract_id, ids))
        )
        for contract_id, option, starts_on, ends_on in option_rows:
            options[contract_id].append((option, starts_on, ends_on))
    return changes, options


async def timelines(session: AsyncSession, contracts: Sequence[Contract]) -> list[ServiceTimeline]:
    changes, options = await _histories(session, [c.id for c in contracts])
    return [
        service_timeline(
            c.plan,
            c.license_ids,
            c.service_start_on,  # type: ignore[arg-type]
            c.termination_effective_on,
            changes[c.id],
            options[c.id],
        )
        for c in contracts
    ]


def _billable(month: Month) -> list[Any]:
    """R-CHG-1: at least one day of service in ``month`` — or, after the service ended,
    ledger charges still waiting for an invoice (nothing in the ledger is left behind)."""
    ended = Contract.termination_effective_on < month.first_day
    return [
        Contract.status.in_(BILLING_STATUSES),
        Contract.service_start_on <= month.last_day,
        or_(
            Contract.termination_effective_on.is_(None),
            ~ended,
            and_(ended, charges.unbilled_due_exists(Contract.id, month)),
        ),
    ]


def billable_ids_query(month: Month) -> Select[str]:
    """SQL selecting the ids of the contracts billing in ``month`` (for counting joins)."""
    return select(Contract.id).where(*_billable(month))


async def billable_ids(
    session: AsyncSession, month: Month, *, after_id: str | None = None, limit: int = 1000
) -> list[str]:
    """The ids of the contracts billing in ``month``, in id order, without locking them."""
    stmt = select(Contract.id).where(*_billable(month)).order_by(Contract.id).limit(limit)
    if after_id is not None:
        stmt = stmt.where(Contract.id > after_id)
    return list((await session.scalars(stmt)).all())


async def count_billable(session: AsyncSession, month: Month) -> int:
    value = await session.scalar(
        select(func.count()).select_from(Contract).where(*_billable(month))
    )
    return int(value or 0)


async def billable_in(
    session: AsyncSession,
    month: Month,
    *,
    after_id: str | None = None,
    limit: int = 1000,
    lock: bool = False,
    skip_locked: bool = True,
    ids: Sequence[str] | None = None,
    on_error: OnError | None = None,
) -> list[BillingSubject]:
    """Contracts with at least one day of service in ``month``, in id order (R-CHG-1).

    ``lock`` takes the rows FOR UPDATE on PostgreSQL, SKIP LOCKED unless ``skip_locked``
    is false, so concurrent runners share out the contracts instead of waiting for each
    other (or, for a final pass, wait for the holder to finish). ``ids`` restricts the
    selection. A contract whose stored history does not make a valid timeline is left
    out and reported to ``on_error``; without it the error propagates.
    """
    stmt = (
        select(
            Contract.id,
            Contract.customer_id,
            Contract.plan,
            Contract.license_ids,
            Contract.service_start_on,
            Contract.termination_effective_on,
        )
        .where(*_billable(month))
        .order_by(Contract.id)
        .limit(limit)
    )
    if after_id is not None:
        stmt = stmt.where(Contract.id > after_id)
    if ids is not None:
        stmt = stmt.where(among(session, Contract.id, ids))
    if lock and session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=skip_locked, of=Contract)
    rows = list(await session.execute(stmt))
    changes, options = await _histories(session, [row[0] for row in rows])
    subjects = []
    for contract_id, customer_id, plan, license_ids, start, end in rows:
        assert start is not None  # billing contracts have started (the query says so)
        try:
            timeline = service_timeline(
                plan, license_ids, start, end, changes[contract_id], options[contract_id]
            )
        except PricingError as exc:
            if on_error is None:
                raise
            on_error(contract_id, exc)
            continue
        subjects.append(BillingSubject(contract_id, customer_id, timeline))
    return subjects


async def timeline_for(session: AsyncSession, contract: Contract) -> ServiceTimeline:
    """The timeline of one contract whose service has started."""
    (timeline,) = await timelines(session, [contract])
    return timeline


async def subject(session: AsyncSession, contract: Contract) -> BillingSubject | None:
    """One contract's billing subject, or None before its service starts."""
    if contract.service_start_on is None:
        return None
    (timeline,) = await timelines(session, [contract])
    return BillingSubject(contract.id, contract.customer_id, timeline)
