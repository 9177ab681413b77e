"""Licence changes (R-LC-7, R-CHG-2): an increase from its date; a decrease is a partial
termination with notice and a partial early-termination charge (Art. 13, Art. 24)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import snapshot
from app.auth.service import Principal
from app.changes.schemas import LicenceChangeCreate, LicenceChangeRead
from app.charges import service as charges
from app.contracts import events
from app.contracts.billing import timeline_for as timeline
from app.contracts.guards import (
    ensure_in_service,
    ensure_not_future,
    ensure_not_priced_by_termination,
    load,
    term_containing,
)
from app.contracts.models import LicenceChange
from app.contracts.states import Move, ensure_allowed_now
from app.core.clock import Clock
from app.core.errors import Conflict, Unprocessable
from app.core.ids import new_id
from app.core.pagination import PageParams, cursor_text, paginate
from app.invoices.months import ensure_month_open, record_charges
from app.price_books.service import load_price_books
from app.pricing.calendar import Month, check_notice
from app.pricing.catalogue import ChargeKind
from app.pricing.early_termination import partial_early_termination
from app.pricing.recurring import ContractShape


def _source(change_id: str) -> str:
    return f"licence-change:{change_id}"


async def change_licences(
    session: AsyncSession,
    contract_id: str,
    data: LicenceChangeCreate,
    actor: Principal,
    clock: Clock,
) -> LicenceChangeRead:
    contract = await load(session, contract_id, actor, for_update=True)
    today = clock.today()
    ensure_allowed_now(contract, Move.CHANGE_LICENCES, today)
    ensure_in_service(contract, data.effective_on, "effective_on")
    ensure_not_priced_by_termination(contract)
    await ensure_month_open(session, contract, data.effective_on)
    history = await timeline(session, contract)
    latest_on, current = history.licence_changes[-1]
    # The first entry is the application's quantity on the service start day: a change
    # on that day (or before an earlier change) would break the history (R-CHG-2).
    if data.effective_on <= latest_on:
        raise Conflict(
            f"The licence quantity effective {latest_on} is already recorded; changes are "
            "recorded in date order.",
            code="licence_change_out_of_order",
            rule="R-LC-7",
            latest_effective_on=latest_on,
        )
    if data.license_ids == current:
        raise Unprocessable(
            f"The contract already has {current} licence IDs.",
            code="no_change",
            rule="R-LC-7",
            license_ids=current,
        )
    decrease = data.license_ids < current
    charge = 0
    # A decrease is a partial termination (Art. 13): written notice three months ahead.
    if decrease and data.notice_on is None:
        raise Unprocessable(
            "A decrease is a partial termination and needs the notice date.",
            code="notice_required",
            rule="R-TERM-3",
            field="notice_on",
        )
    if data.notice_on is not None:
        ensure_not_future(data.notice_on, today, "notice_on", "R-TERM-3")
        if decrease:
            check_notice(data.notice_on, data.effective_on)
    before = snapshot(contract)
    change = LicenceChange(
        id=new_id("lch"),
        contract_id=contract.id,
        effective_on=data.effective_on,
        license_ids=data.license_ids,
        previous_license_ids=current,
        notice_on=data.notice_on,
        recorded_by=actor.key_id,
        recorded_at=clock.now(),
    )
    session.add(change)
    await session.flush()
    if decrease:
        options = history.options_on(data.effective_on - timedelta(days=1))
        book = (await load_price_books(session)).for_month(Month.of(data.effective_on))
        partial = partial_early_termination(
            book,
            ContractShape(contract.plan, current, options),
            ContractShape(contract.plan, data.license_ids, options),
            data.effective_on,
            term_containing(contract, data.effective_on).end_on,
        )
        if partial.line is not None:
            await record_charges(
                session,
                contract_id=contract.id,
                lines=[partial.line],
                kind=ChargeKind.EARLY_TERMINATION,
                month=Month.of(data.effective_on),
                source=_source(change.id),
                actor_key_id=actor.key_id,
                request_id=actor.request_id,
                clock=clock,
            )
        charge = partial.amount
    await events.changed(
        session,
        contract,
        event="contract.license_changed",
        business_date=data.effective_on,
        actor=actor,
        clock=clock,
        before=before,
        payload={
            "from": current,
            "to": data.license_ids,
            "notice_on": data.notice_on,
            "early_termination_charge": charge,
        },
    )
    return LicenceChangeRead(
        id=change.id,
        effective_on=change.effective_on,
        license_ids=change.license_ids,
        previous_license_ids=current,
        notice_on=change.notice_on,
        early_termination_charge=charge,
    )


async def history(
    session: AsyncSession, contract_id: str, actor: Principal, params: PageParams
) -> tuple[list[LicenceChangeRead], str | None]:
    """A page of the licence history, newest first, with each decrease's partial charge."""
    contract = await load(session, contract_id, actor)
    rows: list[LicenceChange]
    rows, cursor = await paginate(
        session,
        select(LicenceChange).where(LicenceChange.contract_id == contract.id),
        keys=[LicenceChange.effective_on, LicenceChange.id],
        key_of=lambda c: [c.effective_on, c.id],
        params=params,
        parse=[date.fromisoformat, cursor_text],
    )
    ledgers = await charges.for_sources(session, contract.id, [_source(r.id) for r in rows])
    result = []
    for row in rows:
        ledger = ledgers.get(_source(row.id), [])
        result.append(
            LicenceChangeRead(
                id=row.id,
                effective_on=row.effective_on,
                license_ids=row.license_ids,
                previous_license_ids=row.previous_license_ids,
                notice_on=row.notice_on,
                early_termination_charge=sum(c.amount for c in ledger),
            )
        )
    return result, cursor
