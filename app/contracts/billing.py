"""What the bill run needs of contracts: who bills in a month, and their timelines.

Loaded in batches with three queries (contracts, licence changes, options), so a bill run
over 100,000 contracts costs a few thousand round trips, not hundreds of thousands.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.contracts.models import Contract, ContractOption, LicenceChange
from app.contracts.states import Status
from app.pricing.calendar import Month
from app.pricing.recurring import OptionPeriod, ServiceTimeline

BILLING_STATUSES = (Status.ACTIVE.value, Status.TERMINATED.value)


@dataclass(frozen=True, slots=True)
class BillingSubject:
    contract_id: str
    customer_id: str
    timeline: ServiceTimeline


def timeline_of(
    contract: Contract,
    licence_changes: Sequence[LicenceChange],
    options: Sequence[ContractOption],
) -> ServiceTimeline:
    """The contract's service period, licence history and option periods (R-CHG-1/2)."""
    assert contract.service_start_on is not None
    changes = [(contract.service_start_on, contract.license_ids)]
    changes += [
        (c.effective_on, c.license_ids)
        for c in sorted(licence_changes, key=lambda c: c.effective_on)
    ]
    return ServiceTimeline(
        plan=contract.plan,
        service_start_on=contract.service_start_on,
        service_end_on=contract.termination_effective_on,
        licence_changes=tuple(changes),
        option_periods=tuple(OptionPeriod(o.option, o.starts_on, o.ends_on) for o in options),
    )


async def timelines(session: AsyncSession, contracts: Sequence[Contract]) -> list[ServiceTimeline]:
    ids = [c.id for c in contracts]
    changes: dict[str, list[LicenceChange]] = defaultdict(list)
    options: dict[str, list[ContractOption]] = defaultdict(list)
    if ids:
        for change in await session.scalars(
            select(LicenceChange).where(LicenceChange.contract_id.in_(ids))
        ):
            changes[change.contract_id].append(change)
        for option in await session.scalars(
            select(ContractOption).where(ContractOption.contract_id.in_(ids))
        ):
            options[option.contract_id].append(option)
    return [timeline_of(c, changes[c.id], options[c.id]) for c in contracts]


async def billable_in(
    session: AsyncSession,
    month: Month,
    *,
    after_id: str | None = None,
    limit: int = 1000,
    lock: bool = False,
) -> list[BillingSubject]:
    """Contracts with at least one day of service in ``month``, in id order (R-CHG-1).

    ``lock`` takes the rows FOR UPDATE SKIP LOCKED on PostgreSQL, so concurrent runners
    share out the contracts instead of waiting for each other.
    """
    stmt = (
        select(Contract)
        .where(
            Contract.status.in_(BILLING_STATUSES),
            Contract.service_start_on <= month.last_day,
            or_(
                Contract.termination_effective_on.is_(None),
                Contract.termination_effective_on >= month.first_day,
            ),
        )
        .order_by(Contract.id)
        .limit(limit)
    )
    if after_id is not None:
        stmt = stmt.where(Contract.id > after_id)
    if lock:
        stmt = stmt.with_for_update(skip_locked=True)
    contracts = list((await session.scalars(stmt)).all())
    return [
        BillingSubject(c.id, c.customer_id, t)
        for c, t in zip(contracts, await timelines(session, contracts), strict=True)
    ]


async def subject(session: AsyncSession, contract: Contract) -> BillingSubject | None:
    """One contract's billing subject, or None before its service starts."""
    if contract.service_start_on is None:
        return None
    (timeline,) = await timelines(session, [contract])
    return BillingSubject(contract.id, contract.customer_id, timeline)
