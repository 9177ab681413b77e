"""The month's figures in a few aggregate queries, then suppression (Art. 32.1(4)).

Statistics read the contracts' and invoices' tables directly, in SQL aggregates only:
going through those features' services would load every row, and the month of 100,000
contracts has to answer within a second. Nothing here returns a row, only sums and counts
with the number of distinct customers each was drawn from. Five statements: the contracts
(total and plans, one scan), their option periods, the month's invoices (tax and overdue,
one scan), its invoice lines and its payments; the invoice lines' join dominates.

A figure drawn from fewer than ``min_customers`` customers (but at least one) is
suppressed. The plan cells add up to the published total, so when exactly one plan cell
of a measure is suppressed the next smallest is suppressed too: the total minus the
others would otherwise give it away. Options overlap (a contract has several), so their
cells add up to nothing and need no second suppression.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    String,
    and_,
    case,
    distinct,
    func,
    literal,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from app.contracts.billing import BILLING_STATUSES
from app.contracts.models import Contract, ContractOption
from app.invoices.models import Invoice, InvoiceLine, Payment
from app.pricing.calendar import Month
from app.stats import schemas as s

MEASURES = ("active", "new", "ended")


@dataclass(frozen=True, slots=True)
class Cell:
    value: int
    customers: int


def _conditions(month: Month) -> dict[str, ColumnElement[bool]]:
    served = Contract.status.in_(BILLING_STATUSES)
    return {
        "active": and_(
            served,
            Contract.service_start_on <= month.last_day,
            or_(
                Contract.termination_effective_on.is_(None),
                Contract.termination_effective_on >= month.first_day,
            ),
        ),
        "new": and_(served, Contract.service_start_on.between(month.first_day, month.last_day)),
        "ended": and_(
            served, Contract.termination_effective_on.between(month.first_day, month.last_day)
        ),
    }


def _flag(cond: ColumnElement[bool], value: Any = 1) -> Any:
    return case((cond, value), else_=0)


def _summed(sub: Any, *names: str) -> list[Any]:
    """For each measure of a per-customer subquery: its sum, and how many customers
    have any of it (one GROUP BY per customer instead of COUNT(DISTINCT …) per figure)."""
    return [e for n in names for e in (func.sum(sub.c[n]), func.sum(_flag(sub.c[n] > 0)))]


def _cells(row: Sequence[Any], offset: int = 0) -> dict[str, Cell]:
    return {
        m: Cell(int(row[offset + 2 * i] or 0), int(row[offset + 2 * i + 1] or 0))
        for i, m in enumerate(MEASURES)
    }


class Suppressor:
    def __init__(self, min_customers: int) -> None:
        self.min_customers = min_customers

    def hides(self, cell: Cell) -> bool:
        return 0 < cell.customers < self.min_customers

    def figure(self, cell: Cell, *, hidden: bool = False) -> s.Figure:
        if hidden or self.hides(cell):
            return s.Figure(value=None, suppressed=True)
        return s.Figure(value=cell.value, suppressed=False)

    def hidden_parts(self, parts: Sequence[Cell], total: Cell) -> set[int]:
        """The parts of a published total to suppress: primary, and one more when a
        single suppressed part could be recovered by subtraction."""
        hidden = {i for i, cell in enumerate(parts) if self.hides(cell)}
        if len(hidden) == 1 and not self.hides(total):
            shown = [i for i in range(len(parts)) if i not in hidden and parts[i].customers]
            if shown:
                hidden.add(min(shown, key=lambda i: (parts[i].value, i)))
        return hidden


async def _contracts(
    session: AsyncSession, month: Month, hide: Suppressor
) -> tuple[s.Contracts, s.Figure]:
    """One scan of the contracts, grouped per (customer, plan); from those groups, one row
    per plan and one for the total, in the same statement. The total counts a customer with
    contracts on two plans once (COUNT(DISTINCT …)), which summing the plans would not."""
    cond = _conditions(month)
    ad_names = [f"ad_{m}" for m in MEASURES]
    total_names = [*MEASURES, *ad_names, "licences"]
    per = (
        select(
            Contract.customer_id,
            Contract.plan,
            *[func.sum(_flag(cond[m])).label(m) for m in MEASURES],
            *[
                func.sum(_flag(and_(cond[m], Contract.ad_integration))).label(f"ad_{m}")
                for m in MEASURES
            ],
            func.sum(_flag(cond["active"], Contract.license_ids)).label("licences"),
        )
        .group_by(Contract.customer_id, Contract.plan)
        .cte("per_customer_plan")
    )
    plans = select(
        per.c.plan,
        *_summed(per, *MEASURES),
        *[literal(0) for _ in range(2 * (len(total_names) - len(MEASURES)))],
    ).group_by(per.c.plan)
    total = select(
        literal(None, String).label("plan"),
        *[
            e
            for n in total_names
            for e in (
                func.sum(per.c[n]),
                func.count(distinct(case((per.c[n] > 0, per.c.customer_id)))),
            )
        ],
    )
    rows: list[Any] = list((await session.execute(union_all(plans, total))).all())
    total_row = next(row[1:] for row in rows if row[0] is None)
    plan_rows = sorted((row for row in rows if row[0] is not None), key=lambda row: row[0])
    totals = _cells(total_row)
    cells = [(row[0], _cells(row, 1)) for row in plan_rows]
    hidden = {m: hide.hidden_parts([c[m] for _, c in cells], totals[m]) for m in MEASURES}
    by_plan = [
        s.PlanCounts(
            plan=plan,
            **{m: hide.figure(plan_cells[m], hidden=i in hidden[m]) for m in MEASURES},
        )
        for i, (plan, plan_cells) in enumerate(cells)
    ]
    by_option = await _options(session, month, hide)
    ad_cells = _cells(total_row, 2 * len(MEASURES))
    by_option.append(
        s.OptionCounts(option="ad_integration", **{m: hide.figure(ad_cells[m]) for m in MEASURES})
    )
    n = 4 * len(MEASURES)
    licence_cell = Cell(int(total_row[n] or 0), int(total_row[n + 1] or 0))
    contracts = s.Contracts(
        total=s.ContractCounts(**{m: hide.figure(totals[m]) for m in MEASURES}),
        by_plan=by_plan,
        by_option=by_option,
    )
    return contracts, hide.figure(licence_cell)


async def _options(session: AsyncSession, month: Month, hide: Suppressor) -> list[s.OptionCounts]:
    """soc and reserved_ip by their dated periods: in effect on a day of the month (a
    contract with two periods in the month counts once)."""
    cond = _conditions(month)
    in_month = and_(
        ContractOption.starts_on <= month.last_day,
        or_(ContractOption.ends_on.is_(None), ContractOption.ends_on >= month.first_day),
    )
    # A contract with two periods in the month is one (option, contract) pair: made
    # distinct on the option periods before the join, not by grouping the joined rows.
    in_effect = (
        select(ContractOption.option, ContractOption.contract_id)
        .where(in_month)
        .distinct()
        .subquery()
    )
    per_customer = (
        select(
            in_effect.c.option,
            Contract.customer_id,
            *[func.sum(_flag(cond[m])).label(m) for m in MEASURES],
        )
        .join(Contract, Contract.id == in_effect.c.contract_id)
        .group_by(in_effect.c.option, Contract.customer_id)
        .subquery()
    )
    rows = (
        await session.execute(
            select(per_customer.c.option, *_summed(per_customer, *MEASURES)).group_by(
                per_customer.c.option
            )
        )
    ).all()
    found = {row[0]: _cells(row, 1) for row in rows}
    empty = {m: Cell(0, 0) for m in MEASURES}
    return [
        s.OptionCounts(
            option=option, **{m: hide.figure(found.get(option, empty)[m]) for m in MEASURES}
        )
        for option in ("soc", "reserved_ip")
    ]


def _billed(month: Month) -> list[ColumnElement[bool]]:
    return [Invoice.month == str(month), Invoice.status != "void"]


async def _invoiced(
    session: AsyncSession, month: Month, hide: Suppressor, tax: s.Figure
) -> s.Invoiced:
    per_customer = (
        select(
            InvoiceLine.item,
            InvoiceLine.taxable,
            Invoice.customer_id,
            func.sum(InvoiceLine.amount).label("amount"),
        )
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(*_billed(month))
        .group_by(InvoiceLine.item, InvoiceLine.taxable, Invoice.customer_id)
        .subquery()
    )
    rows = (
        await session.execute(
            select(
                per_customer.c.item,
                per_customer.c.taxable,
                func.sum(per_customer.c.amount),
                func.count(),
            )
            .group_by(per_customer.c.item, per_customer.c.taxable)
            .order_by(per_customer.c.item, per_customer.c.taxable.desc())
        )
    ).all()
    return s.Invoiced(
        by_item=[
            s.ItemAmount(
                item=item,
                tax_category="taxable" if taxable else "non_taxable",
                amount=hide.figure(Cell(int(amount or 0), int(n))),
            )
            for item, taxable, amount, n in rows
        ],
        tax=tax,
    )


async def _received(session: AsyncSession, month: Month, hide: Suppressor) -> s.Received:
    row = (
        await session.execute(
            select(
                func.count(Payment.id),
                func.sum(Payment.amount),
                func.count(distinct(Invoice.customer_id)),
            )
            .join(Invoice, Invoice.id == Payment.invoice_id)
            .where(Payment.paid_on.between(month.first_day, month.last_day))
        )
    ).one()
    customers = int(row[2] or 0)
    return s.Received(
        count=hide.figure(Cell(int(row[0] or 0), customers)),
        amount=hide.figure(Cell(int(row[1] or 0), customers)),
    )


async def _billed_and_overdue(
    session: AsyncSession, month: Month, today: date, hide: Suppressor
) -> tuple[s.Figure, s.Overdue]:
    """The month's tax and its invoices overdue today, in one pass over its invoices,
    grouped per customer so each figure knows how many customers it is drawn from."""
    billed = Invoice.status != "void"
    overdue = and_(
        Invoice.status == "issued", Invoice.due_on < today, Invoice.amount_paid < Invoice.total
    )
    per_customer = (
        select(
            func.sum(_flag(billed, Invoice.tax)).label("tax"),
            func.max(_flag(billed)).label("billed"),
            func.sum(_flag(overdue)).label("overdue"),
            func.sum(_flag(overdue, Invoice.total - Invoice.amount_paid)).label("balance"),
        )
        .where(Invoice.month == str(month))
        .group_by(Invoice.customer_id)
        .subquery()
    )
    c = per_customer.c
    row = (
        await session.execute(
            select(
                func.sum(c.tax),
                func.sum(c.billed),
                func.sum(c.overdue),
                func.sum(c.balance),
                func.sum(_flag(c.overdue > 0)),
            )
        )
    ).one()
    overdue_customers = int(row[4] or 0)
    return hide.figure(Cell(int(row[0] or 0), int(row[1] or 0))), s.Overdue(
        count=hide.figure(Cell(int(row[2] or 0), overdue_customers)),
        balance=hide.figure(Cell(int(row[3] or 0), overdue_customers)),
    )


async def monthly(
    session: AsyncSession, month: Month, *, today: date, min_customers: int
) -> s.MonthlyStats:
    hide = Suppressor(min_customers)
    if session.get_bind().dialect.name == "postgresql":
        # The invoice lines' aggregate holds a group per (customer, item, tax category):
        # about 60,000 for 100,000 contracts, which spill to disk in the default 4 MB
        # (about 15 % slower). For this transaction only.
        await session.execute(text("SET LOCAL work_mem = '32MB'"))
    contracts, licences = await _contracts(session, month, hide)
    tax, overdue = await _billed_and_overdue(session, month, today, hide)
    return s.MonthlyStats(
        month=str(month),
        min_customers=min_customers,
        contracts=contracts,
        license_ids=licences,
        invoiced=await _invoiced(session, month, hide, tax),
        payments_received=await _received(session, month, hide),
        invoices_overdue=overdue,
    )
