"""Recording a contract's history (R-LC-10) and its audit record (R-PTN-2) together.

Every state change calls :func:`changed` in the same transaction as the change, so the
history can never disagree with the contract.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.service import Principal
from app.contracts.models import Contract, ContractEvent
from app.core.clock import Clock
from app.core.ids import new_id


async def changed(
    session: AsyncSession,
    contract: Contract,
    *,
    event: str,
    business_date: date,
    actor: Principal,
    clock: Clock,
    before: dict[str, Any] | None,
    payload: dict[str, Any] | None = None,
) -> ContractEvent:
    """Bump the contract's version, write the event and the audit record."""
    now = clock.now()
    contract.version = (contract.version or 0) + 1
    contract.updated_at = now
    await session.flush()
    row = ContractEvent(
        id=new_id("evt"),
        contract_id=contract.id,
        type=event,
        business_date=business_date,
        occurred_at=now,
        actor_key_id=actor.key_id,
        payload=audit.plain(payload or {}),
    )
    session.add(row)
    await session.flush()
    await audit.record(
        session,
        clock=clock,
        actor_key_id=actor.key_id,
        action=event,
        resource_type="contract",
        resource_id=contract.id,
        before=before,
        after=audit.snapshot(contract),
        request_id=actor.request_id,
    )
    return row
