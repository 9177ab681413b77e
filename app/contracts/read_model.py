"""The contract as API.md shows it: state, onboarding, term as of today, charges.

Everything derived (deadline, overdue, warranty, term, renewals, monthly charge) is
computed from stored dates on each read, so it is right whatever day it is read.

A read is one statement (issue 11): the contract's columns with its milestones,
inspections, licence changes and option periods, and the price books' fingerprint
(:class:`app.contracts.repository.ContractRecords`), on a request's session or, for the
GETs, on a Core connection without one; the price books themselves come from the
process's cache. :func:`render_data` is pure (a record, the books and today), so the GETs
keep its JSON by the statement row and the day (app/core/renders.py) and answer it as it
is; the write paths :func:`build` the validated model.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Protocol

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.service import Principal
from app.contracts.billing import service_timeline
from app.contracts.models import Contract
from app.contracts.repository import ContractRecord, ContractRecords, record_of
from app.contracts.schemas import (
    ContractRead,
    OnboardingRead,
)
from app.contracts.states import MILESTONES, PRE_SERVICE, Status, effective_status
from app.core.database import Executor
from app.core.errors import NotFound
from app.core.pagination import PageParams
from app.core.renders import Renders, page_json
from app.price_books.cache import price_books
from app.pricing.calendar import Month, notice_deadline, onboarding_deadline, term_on, warranty_end
from app.pricing.liability import liability_cap
from app.pricing.price_book import PriceBooks
from app.pricing.recurring import ContractShape, monthly_charge


class HasShape(Protocol):
    @property
    def plan(self) -> str: ...
    @property
    def license_ids(self) -> int: ...
    @property
    def soc(self) -> bool: ...
    @property
    def reserved_ip(self) -> bool: ...


def shape_of(contract: HasShape) -> ContractShape:
    """The plan, licences and options applied for (before any dated change)."""
    options = {name for name in ("soc", "reserved_ip") if getattr(contract, name)}
    return ContractShape(contract.plan, contract.license_ids, frozenset(options))


def _shape_today(record: ContractRecord, today: date) -> ContractShape:
    if record.service_start_on is None:
        return shape_of(record)
    # While the service runs, licences and options are what the history says today.
    history = service_timeline(
        record.plan,
        record.license_ids,
        record.service_start_on,
        record.termination_effective_on,
        record.licence_changes,
        record.options,
    )
    end = record.termination_effective_on or today
    return history.shape_on(max(record.service_start_on, min(today, end)))


def _term(record: ContractRecord, today: date) -> dict[str, Any] | None:
    if record.service_start_on is None or record.onboarding_started_on is None:
        return None
    end = record.termination_effective_on
    # A terminated contract shows its last term.
    on = min(today, end) if end is not None else today
    term = term_on(record.onboarding_started_on, record.service_start_on, on)
    return {
        "start_on": term.start_on,
        "end_on": term.end_on,
        "notice_deadline": notice_deadline(term.end_on),
        "renewals": term.renewals,
    }


def _onboarding(record: ContractRecord, today: date) -> dict[str, Any]:
    deadline = onboarding_deadline(record.planned_installation_on)
    done = record.milestones_done
    return {
        "kind": record.onboarding_kind,
        "planned_installation_on": record.planned_installation_on,
        "deadline": deadline,
        # R-LC-6: not active by the deadline (only a contract the carrier accepted).
        "overdue": Status(record.status) in PRE_SERVICE and today > deadline,
        "started_on": record.onboarding_started_on,
        "performed_by": record.onboarding_performed_by,
        "milestones": [
            {"key": key, "done_on": done.get(key)} for key in MILESTONES[record.onboarding_kind]
        ],
        "inspections": [
            {
                "id": i.id,
                "inspected_on": i.inspected_on,
                "result": i.result,
                "certificate_on": i.certificate_on,
                "defects": i.defects,
            }
            for i in record.inspections
        ],
        "completed_on": record.service_start_on,
        "warranty_until": (
            warranty_end(record.service_start_on) if record.service_start_on else None
        ),
    }


def _termination(record: ContractRecord, today: date) -> dict[str, Any] | None:
    if record.termination_reason is None:
        return None
    assert record.termination_effective_on is not None
    return {
        "reason": record.termination_reason,
        "effective_on": record.termination_effective_on,
        "notice_on": record.termination_notice_on,
        "breach_item": record.termination_breach_item,
        "recorded_on": record.termination_recorded_on,
        "done": record.termination_effective_on < today,
    }


def _rejection(record: ContractRecord) -> dict[str, Any] | None:
    if record.rejected_on is None or record.rejection_reason is None:
        return None
    return {
        "rejected_on": record.rejected_on,
        "reason": record.rejection_reason,
        "notice": record.rejection_notice or "",
    }


def render_data(record: ContractRecord, books: PriceBooks, today: date) -> dict[str, Any]:
    """The read model of a record as of ``today``, priced at today's price book, as plain
    values: :class:`ContractRead` validates it once, nested parts included (issue 11: a
    nested model built in Python costs more than the whole of it validated in one go)."""
    shape = _shape_today(record, today)
    charge = monthly_charge(books.for_month(Month.of(today)), shape)
    return {
        "id": record.id,
        "customer_id": record.customer_id,
        "status": effective_status(record, today),
        "plan": record.plan,
        "license_ids": shape.license_ids,
        "options": {
            "soc": "soc" in shape.options,
            "reserved_ip": "reserved_ip" in shape.options,
            "ad_integration": record.ad_integration,
        },
        "received_on": record.received_on,
        "accepted_on": record.accepted_on,
        "out_of_order_reason": record.out_of_order_reason,
        "rejection": _rejection(record),
        "withdrawn_on": record.withdrawn_on,
        "administrators": record.administrators,
        "onboarding": _onboarding(record, today),
        "service_start_on": record.service_start_on,
        "term": _term(record, today),
        "termination": _termination(record, today),
        "monthly_charge": charge,
        "liability_cap": liability_cap(charge),
        "predecessor_id": record.predecessor_id,
        "successor_id": record.successor_id,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
    }


def render(record: ContractRecord, books: PriceBooks, today: date) -> ContractRead:
    """:func:`render_data`, validated."""
    return ContractRead.model_validate(render_data(record, books, today))


def _etag(contract_id: str, version: int) -> str:
    """Changes with every recorded change (API.md: GET returns an ETag)."""
    return f'"{contract_id}.v{version}"'


async def _books(session: Executor, record: ContractRecord) -> PriceBooks:
    return (await price_books.at(session, record.price_books)).books


async def _record_of(session: AsyncSession, contract_id: str) -> ContractRecord:
    record = await ContractRecords(session).get(contract_id)
    assert record is not None, "the caller holds the contract"
    return record


async def build(
    session: AsyncSession, contract: Contract, today: date, books: PriceBooks | None = None
) -> ContractRead:
    """The read model of a contract the caller holds (after a change: its flushed state),
    as its GET returns it."""
    record = await _record_of(session, contract.id)
    return render(record, books or await _books(session, record), today)


async def onboarding_view(session: AsyncSession, contract: Contract, today: date) -> OnboardingRead:
    return OnboardingRead.model_validate(_onboarding(await _record_of(session, contract.id), today))


# Issue 11: the renders of the reads, as JSON, by row and day (app/core/renders.py):
# render_data is a pure function of the row (the price books by its fingerprint) and the
# day. A render is some kB: 4,096 of them stay in some tens of MB.
_renders = Renders(4096)


async def _render_json(session: Executor, row: Row[Any], today: date) -> bytes:
    key = (*row, today)
    kept = _renders.get(key)
    if kept is None:
        record = record_of(row)
        kept = _renders.put(key, render_data(record, await _books(session, record), today))
    return kept


async def read(
    session: Executor, contract_id: str, actor: Principal, today: date
) -> tuple[bytes, str]:
    """One contract as GET shows it (``ContractRead``'s JSON) and its ETag; 404 when it
    does not exist or the caller may not see it (R-PTN-3)."""
    row = await ContractRecords(session).get_row(contract_id)
    if row is None or not actor.sees_customer(row.customer_id):
        raise NotFound(f"No contract {contract_id}.", code="contract_not_found")
    return await _render_json(session, row, today), _etag(row.id, row.version)


async def page(
    session: Executor,
    params: PageParams,
    today: date,
    *,
    customer_id: str | None = None,
    status: str | None = None,
) -> bytes:
    """A ``Page[ContractRead]``'s JSON, newest first, in one statement whatever the page
    size."""
    rows, cursor = await ContractRecords(session).page_rows(
        params, customer_id=customer_id, status=status
    )
    return page_json([await _render_json(session, row, today) for row in rows], cursor)
