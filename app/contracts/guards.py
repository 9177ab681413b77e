"""Checks every contract use case starts with."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.service import Principal
from app.contracts.models import Contract
from app.contracts.repository import ContractRepository
from app.core.errors import NotFound, Unprocessable


async def load(
    session: AsyncSession, contract_id: str, actor: Principal, *, for_update: bool = False
) -> Contract:
    """The contract, or 404 when it does not exist or the caller may not see it (R-PTN-3)."""
    contract = await ContractRepository(session).get(contract_id, for_update=for_update)
    if contract is None or not actor.sees_customer(contract.customer_id):
        raise NotFound(f"No contract {contract_id}.", code="contract_not_found")
    return contract


def not_before(day: date, earliest: date, field: str, what: str, rule: str) -> None:
    if day < earliest:
        raise Unprocessable(
            f"{field} {day} is before {what} {earliest}.",
            code="date_out_of_order",
            rule=rule,
            field=field,
            earliest_allowed=earliest,
        )
