"""Recording a contract's history (R-LC-10), its audit record (R-PTN-2) and its outbox
event (issue 12 §2) together.

Every state change calls :func:`changed` in the same transaction as the change, so the
history can never disagree with the contract, and a client's event commits or rolls back
with the change it reports. Each use case calls it once its writes are done, so the event
carries the contract as ``GET /v1/contracts/{id}`` returns it after the change.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.service import Principal
from app.contracts import read_model
from app.contracts.models import Contract, ContractEvent
from app.core.clock import Clock
from app.core.ids import new_id
from app.events.catalogue import EventType
from app.events.outbox import record_event

# History entries that reach clients as another resource's event: an ad-hoc charge is
# ``charge.recorded`` (written where every ledger charge is, app/invoices/months.py).
_NOT_PUBLISHED = frozenset({"contract.charge_added"})


def published_type(event: str) -> EventType | None:
    """The outbox event type of a history entry, or None when it publishes none."""
    if event in _NOT_PUBLISHED:
        return None
    return EventType(event)  # a history type missing from the catalogue is a bug: raise


async def publish(
    session: AsyncSession,
    contract: Contract,
    *,
    type: EventType,
    clock: Clock,
    request_id: str | None,
) -> None:
    """Record the contract's outbox event: the contract as its GET returns it now."""
    await record_event(
        session,
        clock=clock,
        type=type,
        resource_type="contract",
        resource_id=contract.id,
        data=await read_model.build(session, contract, clock.today()),
        customer_id=contract.customer_id,
        request_id=request_id,
    )


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
    """Bump the contract's version, write the history entry, the audit record and the
    outbox event."""
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
    type_ = published_type(event)
    if type_ is not None:
        await publish(session, contract, type=type_, clock=clock, request_id=actor.request_id)
    return row
