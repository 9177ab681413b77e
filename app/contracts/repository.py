from __future__ import annotations

from sqlalchemy import and_, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.contracts.models import Contract, ContractEvent, OnboardingInspection, OnboardingMilestone
from app.contracts.states import Status
from app.core.pagination import PageParams, paginate

# Any constant works: it names "the acceptance queue" among the database's advisory locks.
_ACCEPTANCE_QUEUE_LOCK = 0x5C0A_0001


class ContractRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock_acceptance_queue(self) -> None:
        """Serialise the acceptance queue (R-LC-2): applications and acceptances.

        PostgreSQL: a transaction-scoped advisory lock, so that no application can slip in
        ahead of one being accepted. SQLite: every write transaction already holds the
        database write lock (BEGIN IMMEDIATE), which is the same guarantee.
        """
        if self.session.get_bind().dialect.name == "postgresql":
            await self.session.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ACCEPTANCE_QUEUE_LOCK}
            )

    async def next_arrival_seq(self) -> int:
        current = await self.session.scalar(select(func.max(Contract.arrival_seq)))
        return (current or 0) + 1

    async def add(self, contract: Contract) -> Contract:
        self.session.add(contract)
        await self.session.flush()
        return contract

    async def get(self, contract_id: str, *, for_update: bool = False) -> Contract | None:
        stmt = select(Contract).where(Contract.id == contract_id)
        if for_update:
            stmt = stmt.with_for_update()
        return (await self.session.scalars(stmt)).one_or_none()

    async def lock(self, contract_id: str) -> None:
        """Hold the contract row (PostgreSQL) until the commit: the bill run locks it too,
        so a charge recorded now and a run billing its month see each other's commit."""
        if self.session.get_bind().dialect.name == "postgresql":
            await self.session.execute(
                select(Contract.id).where(Contract.id == contract_id).with_for_update()
            )

    async def earliest_pending_before(self, contract: Contract) -> Contract | None:
        """The earliest application still ``applied`` that arrived before ``contract``."""
        stmt = (
            select(Contract)
            .where(
                Contract.status == Status.APPLIED.value,
                or_(
                    Contract.received_on < contract.received_on,
                    and_(
                        Contract.received_on == contract.received_on,
                        Contract.arrival_seq < contract.arrival_seq,
                    ),
                ),
            )
            .order_by(Contract.received_on, Contract.arrival_seq)
            .limit(1)
        )
        return (await self.session.scalars(stmt)).first()

    async def page(
        self,
        params: PageParams,
        *,
        customer_id: str | None = None,
        status: str | None = None,
    ) -> tuple[list[Contract], str | None]:
        stmt = select(Contract)
        if customer_id is not None:
            stmt = stmt.where(Contract.customer_id == customer_id)
        if status is not None:
            stmt = stmt.where(Contract.status == status)
        return await paginate(
            self.session, stmt, keys=[Contract.id], key_of=lambda c: [c.id], params=params
        )

    async def milestones(self, contract_id: str) -> list[OnboardingMilestone]:
        stmt = select(OnboardingMilestone).where(OnboardingMilestone.contract_id == contract_id)
        return list((await self.session.scalars(stmt)).all())

    async def inspections(self, contract_id: str) -> list[OnboardingInspection]:
        stmt = (
            select(OnboardingInspection)
            .where(OnboardingInspection.contract_id == contract_id)
            .order_by(OnboardingInspection.inspected_on, OnboardingInspection.id)
        )
        return list((await self.session.scalars(stmt)).all())

    async def add_row(
        self, row: OnboardingMilestone | OnboardingInspection | ContractEvent
    ) -> None:
        self.session.add(row)
        await self.session.flush()

    async def events_page(
        self, contract_id: str, params: PageParams
    ) -> tuple[list[ContractEvent], str | None]:
        stmt = select(ContractEvent).where(ContractEvent.contract_id == contract_id)
        return await paginate(
            self.session, stmt, keys=[ContractEvent.id], key_of=lambda e: [e.id], params=params
        )
