from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from pydantic_core import from_json
from sqlalchemy import Row, Select, and_, bindparam, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.contracts.models import (
    Contract,
    ContractEvent,
    ContractOption,
    LicenceChange,
    OnboardingInspection,
    OnboardingMilestone,
)
from app.contracts.states import Status
from app.core.database import Executor, dialect_of
from app.core.driver import DriverSelect
from app.core.pagination import PageParams, paginate, paginate_rows
from app.core.sql import json_rows, json_text
from app.price_books.cache import Fingerprint, fingerprint_column

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


# ---- the read model's reads (issue 11) ------------------------------------------------
#
# A contract with its whole dated history in ONE statement: its columns, each kind of
# child row as a JSON array (a correlated subquery each), and the price books'
# fingerprint, so the read model needs no other round trip whatever the history. A page
# of contracts is the same statement with a LIMIT: one statement whatever the page size.


@dataclass(frozen=True, slots=True)
class InspectionRecord:
    id: str
    inspected_on: date
    result: str
    certificate_on: date | None
    defects: list[str] | None


@dataclass(frozen=True, slots=True)
class ContractRecord:
    """A contract as its read model needs it, as plain values (no ORM identity)."""

    id: str
    customer_id: str
    status: str
    plan: str
    license_ids: int
    soc: bool
    reserved_ip: bool
    ad_integration: bool
    onboarding_kind: str
    received_on: date
    planned_installation_on: date
    administrators: list[dict[str, Any]]
    accepted_on: date | None
    out_of_order_reason: str | None
    rejected_on: date | None
    rejection_reason: str | None
    rejection_notice: str | None
    withdrawn_on: date | None
    onboarding_started_on: date | None
    onboarding_performed_by: str | None
    service_start_on: date | None
    termination_reason: str | None
    termination_effective_on: date | None
    termination_notice_on: date | None
    termination_breach_item: int | None
    termination_recorded_on: date | None
    predecessor_id: str | None
    successor_id: str | None
    version: int
    created_at: datetime
    updated_at: datetime
    milestones_done: dict[str, date]
    inspections: tuple[InspectionRecord, ...]  # oldest first
    licence_changes: tuple[tuple[date, int], ...]  # (effective_on, license_ids)
    options: tuple[tuple[str, date, date | None], ...]  # (option, starts_on, ends_on)
    price_books: Fingerprint


_DERIVED = ("milestones_done", "inspections", "licence_changes", "options", "price_books")
_COLUMNS = [f.name for f in fields(ContractRecord) if f.name not in _DERIVED]


def _day(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


def record_of(row: Any) -> ContractRecord:
    """The record of a row of the read statement (its JSON arrives as text)."""
    *columns, milestones, inspections, changes, options, books = row
    plain: dict[str, Any] = dict(zip(_COLUMNS, columns, strict=True))
    plain["administrators"] = from_json(plain["administrators"])
    milestones, inspections = from_json(milestones), from_json(inspections)
    changes, options = from_json(changes), from_json(options)
    return ContractRecord(
        **plain,
        milestones_done={key: date.fromisoformat(done) for key, done in milestones},
        inspections=tuple(
            sorted(
                (
                    InspectionRecord(i, date.fromisoformat(on), result, _day(cert), defects)
                    for i, on, result, cert, defects in inspections
                ),
                key=lambda r: (r.inspected_on, r.id),
            )
        ),
        licence_changes=tuple(sorted((date.fromisoformat(on), n) for on, n in changes)),
        options=tuple(sorted((name, date.fromisoformat(s), _day(e)) for name, s, e in options)),
        price_books=books or "",
    )


@lru_cache(maxsize=4)
def _record_select(dialect: str) -> Select[Any]:
    """Built once per dialect, of table columns (a Core statement: no ORM compile step),
    so SQLAlchemy's compiled cache finds it at once. JSON comes as text: a row is then
    all plain hashable values, which the read model's cache is keyed by."""
    contracts = Contract.__table__.c
    milestones = OnboardingMilestone.__table__.c
    inspections = OnboardingInspection.__table__.c
    licences = LicenceChange.__table__.c
    options = ContractOption.__table__.c
    return select(
        *(
            json_text(contracts[name]).label(name) if name == "administrators" else contracts[name]
            for name in _COLUMNS
        ),
        json_rows(
            dialect,
            [milestones.key, milestones.done_on],
            milestones.contract_id == contracts.id,
            as_text=True,
        ),
        json_rows(
            dialect,
            [
                inspections.id,
                inspections.inspected_on,
                inspections.result,
                inspections.certificate_on,
                inspections.defects,
            ],
            inspections.contract_id == contracts.id,
            json_columns=[inspections.defects],
            as_text=True,
        ),
        json_rows(
            dialect,
            [licences.effective_on, licences.license_ids],
            licences.contract_id == contracts.id,
            as_text=True,
        ),
        json_rows(
            dialect,
            [options.option, options.starts_on, options.ends_on],
            options.contract_id == contracts.id,
            as_text=True,
        ),
        fingerprint_column(dialect),
    )


@lru_cache(maxsize=4)
def _one_record(dialect: str) -> DriverSelect:
    """The polled read: run on the driver where that is exact (app/core/driver.py)."""
    return DriverSelect(
        _record_select(dialect).where(Contract.__table__.c.id == bindparam("contract_id"))
    )


class ContractRecords:
    """The read model's queries: plain column selects, one statement per read. The rows
    are the statement's (see :func:`record_of`)."""

    def __init__(self, session: Executor) -> None:
        self.session = session
        self.dialect = dialect_of(session)

    async def get(self, contract_id: str) -> ContractRecord | None:
        row = await self.get_row(contract_id)
        return None if row is None else record_of(row)

    async def get_row(self, contract_id: str) -> Row[Any] | None:
        row: Row[Any] | None = await _one_record(self.dialect).first(
            self.session, {"contract_id": contract_id}
        )
        return row

    async def page_rows(
        self,
        params: PageParams,
        *,
        customer_id: str | None = None,
        status: str | None = None,
    ) -> tuple[list[Row[Any]], str | None]:
        contracts = Contract.__table__.c
        stmt = _record_select(self.dialect)
        if customer_id is not None:
            stmt = stmt.where(contracts.customer_id == customer_id)
        if status is not None:
            stmt = stmt.where(contracts.status == status)
        return await paginate_rows(
            self.session, stmt, keys=[contracts.id], key_of=lambda r: [r[0]], params=params
        )
