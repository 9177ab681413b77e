"""Issue 9 §2: months billed in any order give the same invoices (R-CHG-3, R-INV-1).

Each ledger charge bills on the monthly invoice of its own month. A charge whose month is
already invoiced when it is recorded gets the contract's next month not yet invoiced,
stored in its ``month`` then; a void returns charges to that month.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.charges.models import Charge
from app.contracts.models import Contract
from app.core.clock import FixedClock
from app.invoices.models import Invoice, InvoiceLine
from app.invoices.months import record_charges
from app.pricing.calendar import Month
from app.pricing.lines import ChargeLine
from tests.contracts.steps import at
from tests.invoices.billing_steps import active_contract, preview, run_month
from tests.support.databases import BoundDatabase

Headers = dict[str, str]
MONTHS = ["2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11"]
LATE = ChargeLine(
    item="late-payment",
    description="遅延損害金",
    quantity=1,
    unit_price=2_809,
    amount=2_809,
    taxable=False,
    rule="R-CHG-7",
)


def _items(invoice: dict[str, Any]) -> list[str]:
    return [line["item"] for line in invoice["lines"]]


async def _adhoc(
    client: httpx.AsyncClient, headers: Headers, contract_id: str, month: str, amount: int
) -> None:
    response = await client.post(
        f"/v1/contracts/{contract_id}/charges",
        json={"kind": "work", "description": f"追加作業 {month}", "amount": amount, "month": month},
        headers=headers,
    )
    assert response.status_code == 201, response.text


async def _void(client: httpx.AsyncClient, headers: Headers, invoice_id: str) -> None:
    response = await client.post(
        f"/v1/invoices/{invoice_id}/void", json={"reason": "test"}, headers=headers
    )
    assert response.status_code == 200, response.text


async def _record_late(
    database: BoundDatabase, clock: FixedClock, contract_id: str, month: Month, source: str
) -> Charge:
    async with database.sessionmaker() as session:
        (charge,) = await record_charges(
            session,
            contract_id=contract_id,
            lines=[LATE],
            kind="late-payment",
            month=month,
            source=source,
            actor_key_id="test",
            clock=clock,
        )
        await session.commit()
        return charge


async def test_billing_july_before_june_keeps_junes_one_time_fee_on_june(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    """Issue 9 §2, R-CHG-3: the onboarding fee of June is on June's invoice, even when
    July is billed first."""
    contract = await active_contract(client, admin)
    await run_month(client, admin, "2026-07")
    july = await preview(client, admin, contract["id"], "2026-07")
    assert _items(july) == ["basic", "foundation-essential"]
    await run_month(client, admin, "2026-06")
    june = await preview(client, admin, contract["id"], "2026-06")
    assert _items(june) == ["basic", "foundation-essential", "onboarding-simple"]


async def test_a_later_preview_shows_only_its_own_months_charges_r_chg_9(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    """Issue 9 §2: September's preview carries neither June's fee nor August's ad-hoc
    charge; August's preview carries the ad-hoc charge."""
    contract = await active_contract(client, admin)
    await _adhoc(client, admin, contract["id"], "2026-08", 20_000)
    september = await preview(client, admin, contract["id"], "2026-09")
    assert _items(september) == ["basic", "foundation-essential"]
    august = await preview(client, admin, contract["id"], "2026-08")
    assert _items(august) == ["basic", "foundation-essential", "work"]


async def test_voiding_june_and_billing_july_leaves_junes_fee_for_june_r_inv_4(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    """Issue 9 §2: a void returns June's charges to June; July does not take them; June
    billed again carries them."""
    contract = await active_contract(client, admin)
    await run_month(client, admin, "2026-06")
    june = await preview(client, admin, contract["id"], "2026-06")
    await _void(client, admin, june["invoice_id"])
    await run_month(client, admin, "2026-07")
    assert _items(await preview(client, admin, contract["id"], "2026-07")) == [
        "basic",
        "foundation-essential",
    ]
    await run_month(client, admin, "2026-06")
    again = await preview(client, admin, contract["id"], "2026-06")
    assert again["invoiced"] is True
    assert again["invoice_id"] != june["invoice_id"]
    assert _items(again) == ["basic", "foundation-essential", "onboarding-simple"]


async def test_a_charge_for_an_invoiced_month_takes_the_next_open_month_when_recorded(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase, clock: FixedClock
) -> None:
    """Issue 9 §2, R-CHG-7: with June and August invoiced (July not), a late charge for
    June is stored for July, the next month not yet invoiced, and July's run bills it."""
    contract = await active_contract(client, admin)
    await run_month(client, admin, "2026-06")
    await run_month(client, admin, "2026-08")
    charge = await _record_late(database, clock, contract["id"], Month(2026, 6), "late:1")
    assert charge.month == "2026-07"
    aug_to_sep = await _record_late(database, clock, contract["id"], Month(2026, 8), "late:2")
    assert aug_to_sep.month == "2026-09"
    await run_month(client, admin, "2026-07")
    july = await preview(client, admin, contract["id"], "2026-07")
    assert _items(july) == ["basic", "foundation-essential", "late-payment"]


async def test_ad_integration_in_an_invoiced_month_goes_to_the_next_open_month_r_chg_3(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    """Issue 9 §2: AD integration dated in invoiced June, with July invoiced too, is
    stored for August when recorded."""
    contract = await active_contract(client, admin)
    await run_month(client, admin, "2026-06")
    await run_month(client, admin, "2026-07")
    response = await client.post(
        f"/v1/contracts/{contract['id']}/options",
        json={"option": "ad_integration", "effective_on": "2026-06-20"},
        headers=admin,
    )
    assert response.status_code == 200, response.text
    charges = (await client.get(f"/v1/contracts/{contract['id']}/charges", headers=admin)).json()
    assert sorted((c["item"], c["month"]) for c in charges["items"] if c["kind"] == "one-time") == [
        ("ad-integration", "2026-08"),
        ("onboarding-simple", "2026-06"),
    ]


async def _terminate(database: BoundDatabase, clock: FixedClock, contract_id: str) -> None:
    """Service ends 2026-09-10 (set as the termination feature stores it), with an
    early-termination charge for September."""
    async with database.sessionmaker() as session:
        await session.execute(
            update(Contract)
            .where(Contract.id == contract_id)
            .values(
                termination_reason="contractor_request",
                termination_effective_on=date(2026, 9, 10),
            )
        )
        await record_charges(
            session,
            contract_id=contract_id,
            lines=[
                ChargeLine(
                    item="early-termination",
                    description="解約金 (Art. 24)",
                    quantity=8,
                    unit_price=93_000,
                    amount=744_000,
                    taxable=False,
                    rule="R-CHG-5",
                )
            ],
            kind="early-termination",
            month=Month(2026, 9),
            source="termination",
            actor_key_id="test",
            clock=clock,
        )
        await session.commit()


Lines = dict[str, list[tuple[Any, ...]]]


async def _live_lines(database: BoundDatabase, contract_id: str) -> Lines:
    """Every live monthly invoice of the contract, by month, as its lines."""
    async with database.sessionmaker() as session:
        rows = await session.execute(
            select(
                Invoice.monthly_month,
                InvoiceLine.position,
                InvoiceLine.item,
                InvoiceLine.quantity,
                InvoiceLine.unit_price,
                InvoiceLine.amount,
                InvoiceLine.taxable,
                InvoiceLine.rule,
                InvoiceLine.charge_id,
            )
            .join(InvoiceLine, InvoiceLine.invoice_id == Invoice.id)
            .where(Invoice.contract_id == contract_id, Invoice.monthly_month.is_not(None))
            .order_by(Invoice.monthly_month, InvoiceLine.position)
        )
        lines: Lines = {}
        for month, *line in rows:
            assert month is not None
            lines.setdefault(month, []).append(tuple(line))
        return lines


async def _live_invoice(database: BoundDatabase, contract_id: str, month: str) -> str | None:
    async with database.sessionmaker() as session:
        found: str | None = await session.scalar(
            select(Invoice.id).where(
                Invoice.contract_id == contract_id, Invoice.monthly_month == month
            )
        )
        return found


async def _unbilled(database: BoundDatabase, contract_id: str) -> int:
    async with database.sessionmaker() as session:
        rows = await session.scalars(
            select(Charge.id).where(Charge.contract_id == contract_id, Charge.invoice_id.is_(None))
        )
        return len(rows.all())


Step = tuple[str, int]
steps = st.lists(st.tuples(st.sampled_from(["bill", "void"]), st.integers(0, 5)), max_size=12)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    adhoc_months=st.lists(st.integers(0, 3), max_size=3),
    late_month=st.integers(0, 5),
    with_termination=st.booleans(),
    plan=steps,
    finish=st.permutations(range(6)),
)
async def test_any_order_of_runs_voids_and_reruns_gives_the_in_order_lines_issue_9_s2(
    client: httpx.AsyncClient,
    admin: Headers,
    database: BoundDatabase,
    clock: FixedClock,
    adhoc_months: list[int],
    late_month: int,
    with_termination: bool,
    plan: list[Step],
    finish: list[int],
) -> None:
    """Issue 9 §2, R-CHG-3, R-INV-1 (property): over June–November, with the one-time
    item of June, ad-hoc charges in various months, a late charge, and (sometimes) a
    service ending 2026-09-10 with its early-termination charge (so the late charge may
    fall after the service, R-CHG-7), billing the months in any order with voids and
    re-runs in between leaves exactly the invoice lines of billing them in order."""
    connection = database.sessionmaker.kw["bind"]
    assert isinstance(connection, AsyncConnection)
    example = await connection.begin_nested()  # each example starts from the same state
    try:
        at(clock, date(2026, 12, 5))
        contract = await active_contract(client, admin)
        contract_id = contract["id"]
        if with_termination:
            await _terminate(database, clock, contract_id)
        for n, index in enumerate(adhoc_months):
            await _adhoc(client, admin, contract_id, MONTHS[index], 1_000 * (n + 1))
        await _record_late(database, clock, contract_id, Month.parse(MONTHS[late_month]), "late")

        in_order = await connection.begin_nested()
        for month in MONTHS:
            await run_month(client, admin, month)
        expected = await _live_lines(database, contract_id)
        assert await _unbilled(database, contract_id) == 0
        await in_order.rollback()

        for action, index in plan:
            month = MONTHS[index]
            if action == "bill":
                await run_month(client, admin, month)
            elif (invoice_id := await _live_invoice(database, contract_id, month)) is not None:
                await _void(client, admin, invoice_id)
        for index in finish:
            await run_month(client, admin, MONTHS[index])
        assert await _live_lines(database, contract_id) == expected
        assert await _unbilled(database, contract_id) == 0
    finally:
        await example.rollback()
