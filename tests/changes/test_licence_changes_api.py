"""Licence changes through the API (R-LC-7, R-CHG-2, R-TERM-3, R-CAT-3; example H).

Example B: 120 IDs of Complete Advantage with SOC and reserved IP, active from 2026-06-15,
term end 2027-05-20; today is 2026-11-24.
"""

from __future__ import annotations

from datetime import date

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import FixedClock
from tests.conftest import KeyFactory
from tests.contracts.changes_support import (
    Body,
    Headers,
    event_types,
    example_b,
    invoice_month,
    ledger,
    problem,
    read,
)
from tests.contracts.steps import at
from tests.support.databases import BoundDatabase


async def _change(
    client: httpx.AsyncClient, headers: Headers, contract_id: str, **body: object
) -> httpx.Response:
    return await client.post(
        f"/v1/contracts/{contract_id}/license-changes", json=body, headers=headers
    )


def _monthly_b(license_ids: int) -> int:
    """Example B's monthly charge at ``license_ids``: SOC users follow the licences."""
    units = -(-license_ids // 10)
    return 50_000 + units * 21_600 + 100_000 + units * 1_000 + 80_000


async def test_r_lc_7_increase_on_any_day_of_an_open_month_needs_no_notice(
    client: httpx.AsyncClient, admin: Headers, session: AsyncSession
) -> None:
    contract = await example_b(client, admin)
    # A past day of November (not invoiced) and a future day: neither needs a notice.
    past = await _change(client, admin, contract["id"], license_ids=150, effective_on="2026-11-17")
    assert past.status_code == 201, past.text
    assert past.json() == {
        "id": past.json()["id"],
        "effective_on": "2026-11-17",
        "license_ids": 150,
        "previous_license_ids": 120,
        "notice_on": None,
        "early_termination_charge": 0,
    }
    future = await _change(
        client, admin, contract["id"], license_ids=200, effective_on="2026-12-31"
    )
    assert future.status_code == 201, future.text
    assert future.json()["early_termination_charge"] == 0
    assert await ledger(client, contract, admin) == []
    assert (await event_types(session, contract["id"]))[-2:] == [
        "contract.license_changed",
        "contract.license_changed",
    ]


async def test_r_term_3_a_decrease_without_notice_is_refused(
    client: httpx.AsyncClient, admin: Headers, session: AsyncSession
) -> None:
    contract = await example_b(client, admin)
    body = problem(
        await _change(client, admin, contract["id"], license_ids=60, effective_on="2027-03-10"),
        422,
        "notice_required",
    )
    assert body["rule"] == "R-TERM-3"
    assert body["field"] == "notice_on"
    history = await client.get(f"/v1/contracts/{contract['id']}/license-changes", headers=admin)
    assert history.json() == {"items": [], "next_cursor": None}


async def test_r_term_3_decrease_notice_on_the_deadline_day_is_accepted_one_day_late_refused(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    contract = await example_b(client, admin)
    late = problem(
        await _change(
            client,
            admin,
            contract["id"],
            license_ids=60,
            effective_on="2026-12-10",
            notice_on="2026-09-11",
        ),
        422,
        "notice_too_late",
    )
    assert late["rule"] == "R-TERM-3"
    assert late["earliest_effective_on"] == "2026-12-11"
    assert late["notice_deadline"] == "2026-09-10"
    on_time = await _change(
        client,
        admin,
        contract["id"],
        license_ids=60,
        effective_on="2026-12-10",
        notice_on="2026-09-10",
    )
    assert on_time.status_code == 201, on_time.text
    assert on_time.json()["early_termination_charge"] == 678_000


async def test_r_term_3_a_notice_dated_in_the_future_is_refused(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    contract = await example_b(client, admin)
    body = problem(
        await _change(
            client,
            admin,
            contract["id"],
            license_ids=60,
            effective_on="2027-04-10",
            notice_on="2026-11-25",
        ),
        422,
        "date_in_future",
    )
    assert body["latest_allowed"] == "2026-11-24"


async def test_r_chg_2_a_decrease_that_removes_no_unit_bears_no_charge(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    """120 → 111 IDs still bills 12 units: nothing chargeable is removed (R-CAT-2)."""
    contract = await example_b(client, admin)
    response = await _change(
        client,
        admin,
        contract["id"],
        license_ids=111,
        effective_on="2026-12-10",
        notice_on="2026-09-10",
    )
    assert response.status_code == 201, response.text
    assert response.json()["early_termination_charge"] == 0
    assert await ledger(client, contract, admin) == []
    at_client_clock = await read(client, contract["id"], admin)
    assert at_client_clock["license_ids"] == 120


async def test_r_lc_7_changes_must_be_recorded_in_date_order(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    contract = await example_b(client, admin)
    first = await _change(client, admin, contract["id"], license_ids=150, effective_on="2026-12-15")
    assert first.status_code == 201, first.text
    earlier = problem(
        await _change(client, admin, contract["id"], license_ids=160, effective_on="2026-12-10"),
        409,
        "licence_change_out_of_order",
    )
    assert earlier["latest_effective_on"] == "2026-12-15"
    problem(
        await _change(client, admin, contract["id"], license_ids=160, effective_on="2026-12-15"),
        409,
        "licence_change_out_of_order",
    )
    later = await _change(client, admin, contract["id"], license_ids=160, effective_on="2026-12-16")
    assert later.status_code == 201, later.text


async def test_r_lc_7_the_same_quantity_is_no_change(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    contract = await example_b(client, admin)
    body = problem(
        await _change(client, admin, contract["id"], license_ids=120, effective_on="2026-12-10"),
        422,
        "no_change",
    )
    assert body["license_ids"] == 120


async def test_r_chg_1_a_change_before_the_service_start_is_refused(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    contract = await example_b(client, admin)
    body = problem(
        await _change(client, admin, contract["id"], license_ids=150, effective_on="2026-06-14"),
        422,
        "before_service_start",
    )
    assert body["earliest_allowed"] == "2026-06-15"


async def test_r_chg_2_a_change_on_the_service_start_day_keeps_the_contract_readable(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    """The application's quantity is in effect on the service start day; a change dated
    that day is refused (never half-recorded into a history the reads cannot build)."""
    contract = await example_b(client, admin)
    body = problem(
        await _change(client, admin, contract["id"], license_ids=150, effective_on="2026-06-15"),
        409,
        "licence_change_out_of_order",
    )
    assert body["latest_effective_on"] == "2026-06-15"
    assert (await read(client, contract["id"], admin))["license_ids"] == 120
    next_day = await _change(
        client, admin, contract["id"], license_ids=150, effective_on="2026-06-16"
    )
    assert next_day.status_code == 201, next_day.text
    assert (await read(client, contract["id"], admin))["license_ids"] == 150


async def test_no_change_may_alter_an_invoiced_month(
    client: httpx.AsyncClient,
    admin: Headers,
    database: BoundDatabase,
    clock: FixedClock,
) -> None:
    """DOMAIN.md opening: 409 month_already_invoiced, naming the first open month."""
    contract = await example_b(client, admin)
    await invoice_month(database, clock, contract, "2026-11")
    body = problem(
        await _change(client, admin, contract["id"], license_ids=150, effective_on="2026-11-30"),
        409,
        "month_already_invoiced",
    )
    assert body["invoiced_through"] == "2026-11"
    assert body["earliest_allowed"] == "2026-12-01"
    decrease = problem(
        await _change(
            client,
            admin,
            contract["id"],
            license_ids=60,
            effective_on="2026-08-10",
            notice_on="2026-05-10",
        ),
        409,
        "month_already_invoiced",
    )
    assert decrease["invoiced_through"] == "2026-11"
    assert await ledger(client, contract, admin) == []
    ok = await _change(client, admin, contract["id"], license_ids=150, effective_on="2026-12-01")
    assert ok.status_code == 201, ok.text


async def test_r_lc_7_the_contract_shows_the_licences_in_effect_today(
    client: httpx.AsyncClient, admin: Headers, clock: FixedClock
) -> None:
    contract = await example_b(client, admin)
    past = await _change(client, admin, contract["id"], license_ids=150, effective_on="2026-11-01")
    assert past.status_code == 201, past.text
    now = await read(client, contract["id"], admin)
    assert now["license_ids"] == 150
    future = await _change(
        client,
        admin,
        contract["id"],
        license_ids=60,
        effective_on="2026-12-10",
        notice_on="2026-09-10",
    )
    assert future.status_code == 201, future.text
    assert (await read(client, contract["id"], admin))["license_ids"] == 150
    at(clock, date(2026, 12, 9))
    assert (await read(client, contract["id"], admin))["license_ids"] == 150
    at(clock, date(2027, 1, 5))
    assert (await read(client, contract["id"], admin))["license_ids"] == 60


async def test_r_cat_3_soc_users_follow_the_licence_quantity(
    client: httpx.AsyncClient, admin: Headers, clock: FixedClock
) -> None:
    """Example H from January: 50,000 + 6 × 21,600 + 100,000 + 6 × 1,000 + 80,000."""
    contract = await example_b(client, admin)
    increase = await _change(
        client, admin, contract["id"], license_ids=150, effective_on="2026-11-01"
    )
    assert increase.status_code == 201, increase.text
    assert (await read(client, contract["id"], admin))["monthly_charge"] == 569_000
    assert _monthly_b(150) == 569_000
    decrease = await _change(
        client,
        admin,
        contract["id"],
        license_ids=60,
        effective_on="2026-12-10",
        notice_on="2026-09-10",
    )
    assert decrease.status_code == 201, decrease.text
    at(clock, date(2027, 1, 5))
    after = await read(client, contract["id"], admin)
    assert after["monthly_charge"] == 365_600 == _monthly_b(60)
    assert after["liability_cap"] == 365_600


async def test_r_lc_7_the_history_lists_every_change_with_its_charge(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    contract = await example_b(client, admin)
    await _change(client, admin, contract["id"], license_ids=150, effective_on="2026-11-01")
    decrease = await _change(
        client,
        admin,
        contract["id"],
        license_ids=60,
        effective_on="2026-12-10",
        notice_on="2026-09-10",
    )
    # 150 → 60 IDs removes 9 units of plan and SOC users for January to May 2027.
    assert decrease.json()["early_termination_charge"] == 5 * 9 * (21_600 + 1_000) == 1_017_000
    response = await client.get(f"/v1/contracts/{contract['id']}/license-changes", headers=admin)
    assert response.status_code == 200, response.text
    history: list[Body] = response.json()["items"]
    assert [
        (
            c["effective_on"],
            c["previous_license_ids"],
            c["license_ids"],
            c["notice_on"],
            c["early_termination_charge"],
        )
        for c in history
    ] == [
        ("2026-12-10", 150, 60, "2026-09-10", 1_017_000),
        ("2026-11-01", 120, 150, None, 0),
    ]
    charges = await ledger(client, contract, admin)
    assert [(c["item"], c["amount"], c["taxable"], c["month"], c["rule"]) for c in charges] == [
        ("early-termination", 1_017_000, False, "2026-12", "R-CHG-5")
    ]


async def test_only_operators_change_licences_and_crm_reads_the_history(
    client: httpx.AsyncClient, admin: Headers, make_key: KeyFactory
) -> None:
    contract = await example_b(client, admin)
    crm = await make_key("crm")
    operator = await make_key("operator")
    problem(
        await _change(client, crm, contract["id"], license_ids=150, effective_on="2026-12-01"),
        403,
        "forbidden",
    )
    ok = await _change(client, operator, contract["id"], license_ids=150, effective_on="2026-12-01")
    assert ok.status_code == 201, ok.text
    listed = await client.get(f"/v1/contracts/{contract['id']}/license-changes", headers=crm)
    assert listed.status_code == 200, listed.text
    assert [c["license_ids"] for c in listed.json()["items"]] == [150]


async def test_issue_9_s6_the_licence_history_pages_with_limit_and_cursor(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    """issue 9 §6: `{items, next_cursor}` like every list, newest first (API.md "Lists")."""
    contract = await example_b(client, admin)
    await _change(client, admin, contract["id"], license_ids=150, effective_on="2026-11-01")
    await _change(
        client,
        admin,
        contract["id"],
        license_ids=60,
        effective_on="2026-12-10",
        notice_on="2026-09-10",
    )
    path = f"/v1/contracts/{contract['id']}/license-changes"
    first = (await client.get(path, params={"limit": 1}, headers=admin)).json()
    assert [c["effective_on"] for c in first["items"]] == ["2026-12-10"]
    assert first["next_cursor"]
    second = await client.get(
        path, params={"limit": 1, "cursor": first["next_cursor"]}, headers=admin
    )
    assert [c["effective_on"] for c in second.json()["items"]] == ["2026-11-01"]
    assert second.json()["next_cursor"] is None
    tampered = await client.get(path, params={"cursor": "bm90LWEtY3Vyc29y"}, headers=admin)
    assert (tampered.status_code, tampered.json()["code"]) == (422, "invalid_cursor")
