"""Terminations (R-TERM-3, R-TERM-4): the reason's notice rule and charge, a quote that
changes nothing, and the scheduled termination that later requests may not contradict."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import snapshot
from app.auth.service import Principal
from app.contracts import events
from app.contracts.billing import timeline_for as timeline
from app.contracts.guards import ensure_in_service, ensure_not_future, load, term_containing
from app.contracts.models import Contract
from app.contracts.read_model import shape_of
from app.contracts.states import PRE_SERVICE, Move, Status, ensure_allowed_now
from app.core.clock import Clock
from app.core.errors import AppError, Conflict, InvalidTransition, Unprocessable
from app.core.settings import Settings
from app.endings import cancellations
from app.endings.schemas import Cost, TerminationCreate, TerminationQuote
from app.invoices.months import ensure_month_open, record_charges
from app.price_books.service import load_price_books
from app.pricing.calendar import (
    Month,
    check_notice,
    earliest_effective_on,
    next_term_end,
    notice_deadline,
)
from app.pricing.calendar import onboarding_deadline as deadline_of
from app.pricing.cancellation import cancellation_fee
from app.pricing.catalogue import CHARGE_KIND_NAMES, ChargeKind
from app.pricing.early_termination import TerminationReason, early_termination_charge
from app.pricing.errors import NoticeTooLate, PricingError
from app.pricing.lines import ChargeLine
from app.pricing.recurring import monthly_charge


@dataclass
class TerminationPlan:
    """What a termination would do: its term, its charge lines (nothing stored yet)."""

    reason: TerminationReason
    effective_on: date
    notice_on: date | None
    term_end_on: date | None
    months: int = 0
    early_termination_charge: int = 0
    kind: str = ChargeKind.EARLY_TERMINATION
    lines: list[ChargeLine] = field(default_factory=list)


def _check_status(
    contract: Contract, reason: TerminationReason, effective_on: date, today: date
) -> None:
    if reason is TerminationReason.ONBOARDING_DEADLINE_EXCEEDED:
        # R-LC-6, Art. 14.4: only before the service starts, and only past the deadline.
        if Status(contract.status) not in PRE_SERVICE:
            raise InvalidTransition(
                "Only a contract not yet active can be ended for an overrun onboarding.",
                current=contract.status,
                allowed=[],
            )
        deadline = deadline_of(contract.planned_installation_on)
        # "After the deadline": it must have passed, today as well as on effective_on.
        if effective_on <= deadline or today <= deadline:
            raise Unprocessable(
                f"The onboarding deadline is {deadline}; the carrier may terminate after it.",
                code="onboarding_deadline_not_passed",
                rule="R-LC-6",
                onboarding_deadline=deadline,
            )
        return
    ensure_allowed_now(contract, Move.TERMINATE, today)


def _costs(costs: list[Cost], kind: str, taxable: bool, rule: str) -> list[ChargeLine]:
    name = CHARGE_KIND_NAMES[kind]
    return [
        ChargeLine(
            item=kind,
            description=f"{name}（{c.description}）",
            quantity=1,
            unit_price=c.amount,
            amount=c.amount,
            taxable=taxable,
            rule=rule,
        )
        for c in costs
        if c.amount > 0
    ]


def _check_non_renewal_notice(contract: Contract, notice_on: date, effective_on: date) -> None:
    """R-TERM-3 for a non-renewal: a late notice is refused with the earliest date it
    allows, which for a non-renewal is the next term end the notice still reaches."""
    try:
        check_notice(notice_on, effective_on)
    except NoticeTooLate:
        if contract.service_start_on is None or contract.onboarding_started_on is None:
            raise
        end = term_containing(contract, effective_on).end_on
        while notice_deadline(end) < notice_on:
            end = next_term_end(end)
        raise NoticeTooLate(
            notice_on=notice_on,
            effective_on=effective_on,
            notice_deadline=notice_deadline(effective_on),
            earliest_effective_on=end,
        ) from None


async def plan(
    session: AsyncSession,
    contract: Contract,
    data: TerminationCreate,
    today: date,
    *,
    recording: bool = True,
) -> TerminationPlan:
    """Validate a termination and price it; raises the error a request would get.

    ``recording=False`` is a quote, which asks "what if" (issue 9 §3): a notice dated
    after today is a question about that day, not a notice on file, so only recording
    refuses it (``date_in_future``); every other rule applies to both alike.
    """
    reason = data.reason
    rule = reason.rule
    _check_status(contract, reason, data.effective_on, today)
    if contract.termination_effective_on is not None:
        raise Conflict(
            f"A termination ({contract.termination_reason}) effective "
            f"{contract.termination_effective_on} is already scheduled.",
            code="termination_already_scheduled",
            rule="R-TERM-4",
            termination_effective_on=contract.termination_effective_on,
            termination_reason=contract.termination_reason,
        )
    if (reason is TerminationReason.BREACH) != (data.breach_item is not None):
        raise Unprocessable(
            "breach_item (Art. 14.2, 1–13) is required for breach and only for breach.",
            code="breach_item_mismatch",
            rule="R-TERM-4",
            field="breach_item",
        )
    if data.costs and not (rule.costs_incurred_billed or rule.cancellation_fee_instead):
        raise Unprocessable(
            f"Costs are billed only for nonconformity_unresolved and "
            f"onboarding_deadline_exceeded, not {reason.value}.",
            code="costs_not_billable",
            rule="R-TERM-4",
            field="costs",
        )
    if recording and data.notice_on is not None:
        ensure_not_future(data.notice_on, today, "notice_on", "R-TERM-3")
    if rule.needs_notice:
        if data.notice_on is None:
            raise Unprocessable(
                f"A {reason.value} termination needs the date of the written notice.",
                code="notice_required",
                rule="R-TERM-3",
                field="notice_on",
            )
        if reason is TerminationReason.NON_RENEWAL:
            _check_non_renewal_notice(contract, data.notice_on, data.effective_on)
        else:
            check_notice(data.notice_on, data.effective_on)
    books = await load_price_books(session)
    if rule.cancellation_fee_instead:
        book = books.for_date(contract.received_on)
        started = (
            contract.onboarding_started_on is not None
            and contract.onboarding_started_on <= data.effective_on
        )
        fee = cancellation_fee(
            book,
            shape_of(contract),
            contract.onboarding_kind,
            contract.ad_integration,
            started,
            [(c.description, c.amount) for c in data.costs],
            contractor_at_fault=True,
        )
        return TerminationPlan(
            reason,
            data.effective_on,
            data.notice_on,
            None,
            kind=ChargeKind.CANCELLATION,
            lines=list(fee.lines),
        )
    ensure_in_service(contract, data.effective_on, "effective_on")
    await ensure_month_open(session, contract, data.effective_on)
    history = await timeline(session, contract)
    # Changes dated after the end would bill (or charge early termination for) months
    # the termination already charges in full (R-CHG-5).
    later = [on for on, _ in history.licence_changes if on > data.effective_on] + [
        day
        for period in history.option_periods
        for day in (period.starts_on, period.ends_on)
        if day is not None and day > data.effective_on
    ]
    if later:
        raise Conflict(
            f"A change effective {max(later)} is already recorded; the contract cannot "
            f"end before it.",
            code="changes_after_termination",
            rule="R-TERM-4",
            latest_change_on=max(later),
        )
    term = term_containing(contract, data.effective_on)
    if reason is TerminationReason.NON_RENEWAL:
        current = term_containing(
            contract, max(data.notice_on or today, contract.service_start_on or today)
        )
        if data.effective_on != current.end_on:
            raise Unprocessable(
                f"A non-renewal ends the contract at its current term's end, {current.end_on}.",
                code="non_renewal_not_at_term_end",
                rule="R-TERM-3",
                term_end_on=current.end_on,
                notice_deadline=notice_deadline(current.end_on),
            )
    result = TerminationPlan(reason, data.effective_on, data.notice_on, term.end_on)
    book = books.for_month(Month.of(data.effective_on))
    if rule.early_termination_charge:
        base = monthly_charge(book, history.shape_on(data.effective_on))
        early = early_termination_charge(base, data.effective_on, term.end_on, book=book)
        result.months, result.early_termination_charge = early.months, early.amount
        result.lines = [early.line] if early.line is not None else []
    elif rule.costs_incurred_billed:
        result.kind = ChargeKind.WORK
        result.lines = _costs(
            data.costs, ChargeKind.WORK, book.is_taxable(ChargeKind.WORK), "R-TERM-4"
        )
    return result


async def quote(
    session: AsyncSession,
    contract_id: str,
    data: TerminationCreate,
    actor: Principal,
    clock: Clock,
) -> TerminationQuote:
    """What a termination would cost and whether it is allowed; changes nothing."""
    contract = await load(session, contract_id, actor)
    earliest = earliest_effective_on(data.notice_on) if data.notice_on else None
    deadline = notice_deadline(data.effective_on) if data.reason.rule.needs_notice else None
    try:
        result = await plan(session, contract, data, clock.today(), recording=False)
    except (AppError, PricingError) as exc:
        facts = exc.facts
        found = facts.get("earliest_effective_on")
        return TerminationQuote(
            allowed=False,
            reason=data.reason,
            effective_on=data.effective_on,
            notice_on=data.notice_on,
            code=exc.code,
            detail=str(exc),
            earliest_effective_on=found if isinstance(found, date) else earliest,
            notice_deadline=deadline,
            term_end_on=None,
            months=0,
            early_termination_charge=0,
        )
    return TerminationQuote(
        allowed=True,
        reason=data.reason,
        effective_on=data.effective_on,
        notice_on=data.notice_on,
        earliest_effective_on=earliest if deadline else None,
        notice_deadline=deadline,
        term_end_on=result.term_end_on,
        months=result.months,
        early_termination_charge=result.early_termination_charge,
    )


async def terminate(
    session: AsyncSession,
    contract_id: str,
    data: TerminationCreate,
    actor: Principal,
    clock: Clock,
    settings: Settings,
) -> Contract:
    contract = await load(session, contract_id, actor, for_update=True)
    today = clock.today()
    result = await plan(session, contract, data, today)
    before = snapshot(contract)
    contract.termination_reason = data.reason.value
    contract.termination_effective_on = data.effective_on
    contract.termination_notice_on = data.notice_on
    contract.termination_breach_item = data.breach_item
    contract.termination_recorded_on = today
    if result.kind == ChargeKind.CANCELLATION and result.lines:
        # Art. 14.4 → Art. 9: the cancellation fee, invoiced at once.
        await cancellations.invoice_fee_at_once(
            session,
            contract,
            result.lines,
            "termination",
            data.effective_on,
            actor,
            clock,
            settings,
        )
    elif result.lines:
        await record_charges(
            session,
            contract_id=contract.id,
            lines=result.lines,
            kind=result.kind,
            month=Month.of(data.effective_on),
            source="termination",
            actor_key_id=actor.key_id,
            request_id=actor.request_id,
            clock=clock,
        )
    await events.changed(
        session,
        contract,
        event="contract.termination_scheduled",
        business_date=data.notice_on or today,
        actor=actor,
        clock=clock,
        before=before,
        payload={
            "reason": data.reason.value,
            "effective_on": data.effective_on,
            "months": result.months,
            "early_termination_charge": result.early_termination_charge,
        },
    )
    pre_service = Status(contract.status) in PRE_SERVICE
    if pre_service or data.effective_on < today:
        await mark_terminated(session, contract, actor, clock)
    return contract


async def mark_terminated(
    session: AsyncSession, contract: Contract, actor: Principal, clock: Clock
) -> None:
    """Record that the termination's date has passed (or that there was no service)."""
    assert contract.termination_effective_on is not None
    before = snapshot(contract)
    contract.status = Status.TERMINATED.value
    await events.changed(
        session,
        contract,
        event="contract.terminated",
        business_date=contract.termination_effective_on,
        actor=actor,
        clock=clock,
        before=before,
        payload={"reason": contract.termination_reason},
    )
