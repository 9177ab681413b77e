"""Adding and removing options (R-CAT-3, R-LC-7): reserved_ip any time, ad_integration
once (a one-time charge on the next invoice), soc only on the application; a removal is a
partial termination with notice and its early-termination charge."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import snapshot
from app.auth.service import Principal
from app.changes.schemas import OptionAdd, OptionRemoval
from app.contracts import events
from app.contracts.billing import timeline_for as timeline
from app.contracts.guards import (
    ensure_in_service,
    ensure_not_future,
    ensure_not_priced_by_termination,
    load,
    term_containing,
)
from app.contracts.models import Contract, ContractOption
from app.contracts.states import Move, ensure_allowed_now
from app.core.clock import Clock
from app.core.errors import Conflict, Unprocessable
from app.core.ids import new_id
from app.invoices.months import ensure_month_open, open_month, record_charges
from app.price_books.service import load_price_books
from app.pricing.calendar import Month, check_notice
from app.pricing.catalogue import ChargeKind, check_option_can_be_added
from app.pricing.early_termination import partial_early_termination
from app.pricing.one_time import ad_integration_line


async def _periods(session: AsyncSession, contract: Contract, option: str) -> list[ContractOption]:
    rows = await session.scalars(
        select(ContractOption)
        .where(ContractOption.contract_id == contract.id, ContractOption.option == option)
        .order_by(ContractOption.starts_on)
    )
    return list(rows)


async def add_option(
    session: AsyncSession, contract_id: str, data: OptionAdd, actor: Principal, clock: Clock
) -> Contract:
    contract = await load(session, contract_id, actor, for_update=True)
    ensure_allowed_now(contract, Move.CHANGE_OPTIONS, clock.today())
    check_option_can_be_added(data.option)  # soc: only on the application (R-CAT-3)
    ensure_in_service(contract, data.effective_on, "effective_on")
    before = snapshot(contract)
    if data.option == "ad_integration":
        if contract.ad_integration:
            raise Conflict(
                "AD integration is already part of this contract (it is added once).",
                code="option_already_added",
                rule="R-LC-7",
                option=data.option,
            )
        contract.ad_integration = True
        book = (await load_price_books(session)).for_date(contract.received_on)
        month = await open_month(session, contract.id, Month.of(data.effective_on))
        await record_charges(
            session,
            contract_id=contract.id,
            lines=[ad_integration_line(book)],
            kind=ChargeKind.ONE_TIME,
            month=month,
            source="option:ad_integration",
            actor_key_id=actor.key_id,
            request_id=actor.request_id,
            clock=clock,
        )
    else:
        ensure_not_priced_by_termination(contract)
        await ensure_month_open(session, contract, data.effective_on)
        periods = await _periods(session, contract, data.option)
        if any(p.ends_on is None or p.ends_on >= data.effective_on for p in periods):
            raise Conflict(
                f"The {data.option} option is already in effect on {data.effective_on}.",
                code="option_already_active",
                rule="R-CHG-2",
                option=data.option,
            )
        session.add(
            ContractOption(
                id=new_id("opt"),
                contract_id=contract.id,
                option=data.option,
                starts_on=data.effective_on,
            )
        )
    await events.changed(
        session,
        contract,
        event="contract.option_added",
        business_date=data.effective_on,
        actor=actor,
        clock=clock,
        before=before,
        payload={"option": data.option},
    )
    return contract


async def remove_option(
    session: AsyncSession, contract_id: str, data: OptionRemoval, actor: Principal, clock: Clock
) -> Contract:
    """A partial termination (R-LC-7): notice, then the charge for the removed part."""
    contract = await load(session, contract_id, actor, for_update=True)
    today = clock.today()
    ensure_allowed_now(contract, Move.CHANGE_OPTIONS, today)
    if data.option == "ad_integration":
        raise Unprocessable(
            "AD integration is a one-time item; there is nothing to remove.",
            code="option_not_removable",
            rule="R-CAT-1",
            allowed=["soc", "reserved_ip"],
        )
    ensure_in_service(contract, data.effective_on, "effective_on")
    ensure_not_priced_by_termination(contract)
    await ensure_month_open(session, contract, data.effective_on)
    ensure_not_future(data.notice_on, today, "notice_on", "R-TERM-3")
    check_notice(data.notice_on, data.effective_on)
    open_periods = [
        p
        for p in await _periods(session, contract, data.option)
        if p.starts_on <= data.effective_on and p.ends_on is None
    ]
    if not open_periods:
        raise Conflict(
            f"The {data.option} option is not in effect on {data.effective_on}.",
            code="option_not_active",
            rule="R-LC-7",
            option=data.option,
        )
    history = await timeline(session, contract)
    before_shape = history.shape_on(data.effective_on)
    after_shape = type(before_shape)(
        before_shape.plan, before_shape.license_ids, before_shape.options - {data.option}
    )
    book = (await load_price_books(session)).for_month(Month.of(data.effective_on))
    partial = partial_early_termination(
        book,
        before_shape,
        after_shape,
        data.effective_on,
        term_containing(contract, data.effective_on).end_on,
    )
    before = snapshot(contract)
    period = open_periods[0]
    period.ends_on = data.effective_on
    period.removal_notice_on = data.notice_on
    await session.flush()
    if partial.line is not None:
        await record_charges(
            session,
            contract_id=contract.id,
            lines=[partial.line],
            kind=ChargeKind.EARLY_TERMINATION,
            month=Month.of(data.effective_on),
            source=f"option-removal:{period.id}",
            actor_key_id=actor.key_id,
            request_id=actor.request_id,
            clock=clock,
        )
    await events.changed(
        session,
        contract,
        event="contract.option_removed",
        business_date=data.effective_on,
        actor=actor,
        clock=clock,
        before=before,
        payload={
            "option": data.option,
            "notice_on": data.notice_on,
            "early_termination_charge": partial.amount,
        },
    )
    return contract
