"""Checks every contract use case starts with, and those shared by every dated change of
a running contract."""

from __future__ import annotations

from datetime import date

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.roles import Role
from app.auth.service import Principal
from app.contracts.models import Contract, ContractOption
from app.contracts.repository import ContractRepository
from app.core.errors import Conflict, NotFound, Unprocessable
from app.pricing.calendar import Term, term_on
from app.pricing.early_termination import TerminationReason


async def load(
    session: AsyncSession, contract_id: str, actor: Principal, *, for_update: bool = False
) -> Contract:
    """The contract, or 404 when it does not exist or the caller may not see it (R-PTN-3)."""
    contract = await ContractRepository(session).get(contract_id, for_update=for_update)
    if (
        contract is None
        or not actor.sees_customer(contract.customer_id)
        or (actor.role is Role.PARTNER and not await partner_works_on(session, contract))
    ):
        raise NotFound(f"No contract {contract_id}.", code="contract_not_found")
    return contract


async def partner_works_on(session: AsyncSession, contract: Contract) -> bool:
    """Issue 13 §2: a partner key sees the contracts it works on: those with ``soc`` (now
    or once: its reports stay its work) and those whose onboarding it performs (Art. 20.3)."""
    if contract.soc or contract.onboarding_performed_by == "partner":
        return True
    had_soc = exists().where(
        ContractOption.contract_id == contract.id, ContractOption.option == "soc"
    )
    return bool(await session.scalar(select(had_soc)))


def not_before(day: date, earliest: date, field: str, what: str, rule: str) -> None:
    if day < earliest:
        raise Unprocessable(
            f"{field} {day} is before {what} {earliest}.",
            code="date_out_of_order",
            rule=rule,
            field=field,
            earliest_allowed=earliest,
        )


def ensure_not_future(day: date, today: date, field: str, rule: str) -> None:
    """A notice is a fact that has happened: it cannot be dated after today."""
    if day > today:
        raise Unprocessable(
            f"{field} {day} is in the future.",
            code="date_in_future",
            rule=rule,
            field=field,
            latest_allowed=today,
        )


def ensure_in_service(contract: Contract, day: date, field: str) -> None:
    """A change takes effect on or after the service start and not after the end."""
    assert contract.service_start_on is not None
    if day < contract.service_start_on:
        raise Unprocessable(
            f"{field} {day} is before the service start {contract.service_start_on}.",
            code="before_service_start",
            rule="R-CHG-1",
            field=field,
            earliest_allowed=contract.service_start_on,
        )
    end = contract.termination_effective_on
    if end is not None and day > end:
        raise Conflict(
            f"The contract ends on {end} (termination scheduled); {field} {day} is after it.",
            code="after_termination",
            rule="R-TERM-4",
            termination_effective_on=end,
        )


def ensure_not_priced_by_termination(contract: Contract) -> None:
    """A scheduled termination's early-termination charge (R-CHG-5) was priced on the
    licences and options in effect on its date; changing them now would charge the removed
    part twice (a decrease) or leave the recorded charge wrong (an increase)."""
    reason = contract.termination_reason
    if reason is None or not TerminationReason(reason).rule.early_termination_charge:
        return
    raise Conflict(
        f"A termination ({reason}) effective {contract.termination_effective_on} is "
        "scheduled and its early-termination charge is recorded: licences and options "
        "can no longer change.",
        code="termination_already_scheduled",
        rule="R-CHG-5",
        termination_effective_on=contract.termination_effective_on,
        termination_reason=reason,
    )


def term_containing(contract: Contract, day: date) -> Term:
    assert contract.onboarding_started_on is not None
    assert contract.service_start_on is not None
    return term_on(contract.onboarding_started_on, contract.service_start_on, day)
