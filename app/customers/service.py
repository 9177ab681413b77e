"""Customer use cases. Other features reach customers only through this module."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.audit.service import snapshot
from app.auth.service import Principal
from app.core.clock import Clock
from app.core.commit_writes import insert_at_commit
from app.core.errors import Conflict, NotFound, PreconditionFailed, Unprocessable
from app.core.ids import new_id
from app.core.sql import among
from app.customers.models import Customer
from app.customers.repository import CustomerRepository
from app.customers.schemas import CustomerCreate, CustomerRead, CustomerUpdate
from app.events.catalogue import EventType
from app.events.outbox import record_event

IDENTIFIERS = ("corporate_number", "registration_number", "peppol_id")
# Called before a customer's identifiers change. Issued documents keep the identifiers
# they were issued under (issue 14 §4); that is the e-invoicing feature's business, a
# layer above, so the application hands the hook in (app.state, set by app/main.py).
IdentifiersHook = Callable[[AsyncSession, Customer], Awaitable[None]]
_CUSTOMERS = cast(Table, Customer.__table__)


def etag(customer: Customer | CustomerRead) -> str:
    return f'"{customer.id}.v{customer.version}"'


async def _publish(
    session: AsyncSession, customer: CustomerRead, type: EventType, actor: Principal, clock: Clock
) -> None:
    """The outbox event (issue 12 §2): the customer as its GET returns it."""
    await record_event(
        session,
        clock=clock,
        type=type,
        resource_type="customer",
        resource_id=customer.id,
        data=customer,
        customer_id=customer.id,
        request_id=actor.request_id,
    )


async def _refuse_duplicate_ref(
    repo: CustomerRepository, external_ref: str | None, own_id: str | None = None
) -> None:
    if external_ref is None:
        return
    existing = await repo.by_external_ref(external_ref)
    if existing is not None and existing.id != own_id:
        raise Conflict(
            f"external_ref {external_ref!r} already belongs to customer {existing.id}.",
            code="external_ref_taken",
            existing_id=existing.id,
        )


async def create_customer(
    session: AsyncSession, data: CustomerCreate, actor: Principal, clock: Clock
) -> CustomerRead:
    """The new customer as its GET answers it. Its row is a plain mapping, not an ORM
    object: nothing else in the request reads it back, so the unit of work (its flush and
    its commit-time bookkeeping, about a fifth of a create's CPU: issue 11) would buy
    nothing."""
    repo = CustomerRepository(session)
    await _refuse_duplicate_ref(repo, data.external_ref)
    now = clock.now()
    row = {"id": new_id("cus"), "version": 1, "created_at": now, "updated_at": now}
    row |= data.model_dump()
    if data.external_ref is None:
        # Nothing else unique but a fresh id: no race to catch, so the row is written
        # with the commit's other rows, in its one statement (app/core/commit_writes.py).
        insert_at_commit(session, _CUSTOMERS, row)
    else:
        try:
            async with session.begin_nested():
                await session.execute(insert(_CUSTOMERS), row)
        except IntegrityError:
            # A concurrent create with the same external_ref won the race.
            await _refuse_duplicate_ref(repo, data.external_ref)
            raise
    customer = CustomerRead.model_validate(row)
    await audit.record(
        session,
        clock=clock,
        actor_key_id=actor.key_id,
        action="customers.create",
        resource_type="customer",
        resource_id=customer.id,
        before=None,
        after=row,
        request_id=actor.request_id,
    )
    await _publish(session, customer, EventType.CUSTOMER_CREATED, actor, clock)
    return customer


async def get_customer(session: AsyncSession, customer_id: str, actor: Principal) -> Customer:
    """The customer, or 404 when it does not exist or the caller may not see it (R-PTN-3)."""
    customer = await CustomerRepository(session).get(customer_id)
    if customer is None or not actor.sees_customer(customer.id):
        raise NotFound(f"No customer {customer_id}.", code="customer_not_found")
    return customer


async def customer_exists(session: AsyncSession, customer_id: str) -> bool:
    return await CustomerRepository(session).get(customer_id) is not None


@dataclass(frozen=True, slots=True)
class BillingRecipient:
    """Whom an invoice is addressed to (R-INV-2) and the customer's own reference for it
    (its ``external_ref``, printed on the invoice: issue 14 §3)."""

    name: str
    reference: str | None = None


async def billing_recipients(
    session: AsyncSession, customer_ids: Sequence[str]
) -> dict[str, BillingRecipient]:
    """Each customer's invoice recipient, in one query."""
    if not customer_ids:
        return {}
    rows = await session.execute(
        select(Customer.id, Customer.billing_name, Customer.external_ref).where(
            among(session, Customer.id, sorted(set(customer_ids)))
        )
    )
    return {customer_id: BillingRecipient(name, ref) for customer_id, name, ref in rows}


async def update_customer(
    session: AsyncSession,
    customer_id: str,
    data: CustomerUpdate,
    if_match: str | None,
    actor: Principal,
    clock: Clock,
    *,
    before_identifiers_change: IdentifiersHook | None = None,
) -> Customer:
    repo = CustomerRepository(session)
    customer = await repo.get(customer_id, for_update=True)
    if customer is None or not actor.sees_customer(customer_id):
        raise NotFound(f"No customer {customer_id}.", code="customer_not_found")
    if if_match is not None and if_match.strip() not in ("*", etag(customer)):
        raise PreconditionFailed(
            "The customer changed since you read it; GET it again and retry.",
            current_etag=etag(customer),
        )
    changes = data.model_dump(exclude_unset=True)
    for required in ("name", "billing_name", "email"):
        if required in changes and changes[required] is None:
            raise Unprocessable(f"{required} cannot be cleared.", code="field_required")
    if "external_ref" in changes:
        await _refuse_duplicate_ref(repo, changes["external_ref"], own_id=customer.id)
    before = snapshot(customer)
    if all(getattr(customer, k) == v for k, v in changes.items()):
        return customer
    if before_identifiers_change is not None and any(
        getattr(customer, k) != changes[k] for k in IDENTIFIERS if k in changes
    ):
        await before_identifiers_change(session, customer)
    for key, value in changes.items():
        setattr(customer, key, value)
    customer.version += 1
    customer.updated_at = clock.now()
    await session.flush()
    await audit.record(
        session,
        clock=clock,
        actor_key_id=actor.key_id,
        action="customers.update",
        resource_type="customer",
        resource_id=customer.id,
        before=before,
        after=snapshot(customer),
        request_id=actor.request_id,
    )
    read = CustomerRead.model_validate(customer)
    await _publish(session, read, EventType.CUSTOMER_UPDATED, actor, clock)
    return customer
