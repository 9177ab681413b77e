"""Writing to and reading from the charge ledger. Other features call only this module."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.charges.models import Charge
from app.charges.repository import ChargeRepository
from app.core.clock import Clock
from app.core.ids import new_id
from app.core.pagination import PageParams
from app.pricing.calendar import Month
from app.pricing.catalogue import ChargeKind
from app.pricing.lines import ChargeLine
from app.pricing.price_book import PriceBook
from app.pricing.surcharge import surcharge_lines


async def add(
    session: AsyncSession,
    *,
    contract_id: str,
    lines: Sequence[ChargeLine],
    kind: str,
    month: Month,
    source: str,
    actor_key_id: str,
    clock: Clock,
) -> list[Charge]:
    """Write ``lines`` to the ledger as charges billed on ``month``'s invoice, as they are.

    Which month that is, and that ``source`` is recorded once, is decided by the caller
    (``app.invoices.months.record_charges``, which every feature records through).
    """
    now = clock.now()
    charges = [
        Charge(
            id=new_id("chg"),
            contract_id=contract_id,
            kind=kind,
            item=line.item,
            description=line.description,
            quantity=line.quantity,
            unit_price=line.unit_price,
            amount=line.amount,
            taxable=line.taxable,
            month=str(month),
            rule=line.rule,
            source=source,
            position=position,
            created_by=actor_key_id,
            created_at=now,
        )
        for position, line in enumerate(lines)
    ]
    await ChargeRepository(session).add_all(charges)
    return charges


def unbilled_due_exists(
    contract_id: ColumnElement[str] | InstrumentedAttribute[str], month: Month
) -> ColumnElement[bool]:
    """SQL: the contract has unbilled ledger charges of ``month`` (issue 9 §2).

    For the bill run, so that a charge arising after the last service month (a late
    charge on the final invoice, say) still reaches an invoice.
    """
    return (
        select(Charge.id)
        .where(
            Charge.contract_id == contract_id,
            Charge.invoice_id.is_(None),
            Charge.month == str(month),
        )
        .exists()
    )


async def for_source(session: AsyncSession, contract_id: str, source: str) -> list[Charge]:
    return await ChargeRepository(session).by_source(contract_id, source)


async def for_sources(
    session: AsyncSession, contract_id: str, sources: Sequence[str]
) -> dict[str, list[Charge]]:
    """The charges of each of ``sources`` (those without any are absent)."""
    found: dict[str, list[Charge]] = {}
    for charge in await ChargeRepository(session).by_sources(contract_id, sources):
        found.setdefault(charge.source, []).append(charge)
    return found


async def stamp(
    session: AsyncSession, charge_ids: Sequence[str], invoice_id: str, clock: Clock
) -> int:
    """Stamp unbilled charges with the invoice that bills them; returns how many were."""
    return await ChargeRepository(session).mark_billed_many(
        dict.fromkeys(charge_ids, invoice_id), clock.now()
    )


async def release(session: AsyncSession, invoice_id: str) -> int:
    """A voided invoice gives its charges back to the ledger, unbilled (nothing is lost)."""
    return await ChargeRepository(session).release(invoice_id)


async def billed_of_kind(session: AsyncSession, contract_id: str, kind: str) -> list[Charge]:
    return await ChargeRepository(session).billed_of_kind(contract_id, kind)


def ad_hoc_lines(
    kind: str, description: str, amount: int, taxable: bool | None, book: PriceBook
) -> list[ChargeLine]:
    """R-CHG-8 and R-CHG-9: a surcharge bills the evaded X and 2X, both taxable (Art. 25);
    the other kinds one line, taxable unless marked (default: the book's ruling)."""
    if kind == ChargeKind.SURCHARGE:
        return list(surcharge_lines(amount, book))
    return [
        ChargeLine(
            item=kind,
            description=description,
            quantity=1,
            unit_price=amount,
            amount=amount,
            taxable=book.is_taxable(kind) if taxable is None else taxable,
            rule="R-CHG-9",
        )
    ]


async def page(
    session: AsyncSession, contract_id: str, params: PageParams
) -> tuple[list[Charge], str | None]:
    return await ChargeRepository(session).page(contract_id, params)
