"""The contract as GET shows it: term and renewals (R-TERM-1/2/3), warranty (R-LC-5),
onboarding deadline (R-LC-6), monthly charge and liability cap (R-CHG-10)."""

from __future__ import annotations

from datetime import date

import httpx
import pytest

from app.core.clock import FixedClock
from tests.contracts.steps import (
    Body,
    Headers,
    accepted,
    all_milestones_done,
    at,
    get_contract,
    inspected,
    onboarding,
)
from tests.support.factories import EXAMPLE_B, activate, apply, create_customer, post_ok


@pytest.fixture
async def customer(client: httpx.AsyncClient, admin: Headers) -> Body:
    return await create_customer(client, admin)


# ---- term and renewal (worked example C) -------------------------------------------------


async def test_worked_example_c_first_term_and_notice_deadline(
    client: httpx.AsyncClient, admin: Headers, customer: Body
) -> None:
    """R-TERM-1: onboarding 2026-05-20, completion 2026-06-15 → 2026-06-15..2027-05-20;
    R-TERM-3: non-renewal notice due by 2027-02-20."""
    contract = await activate(client, admin, await apply(client, admin, customer["id"]))
    assert contract["service_start_on"] == "2026-06-15"
    assert contract["term"] == {
        "start_on": "2026-06-15",
        "end_on": "2027-05-20",
        "notice_deadline": "2027-02-20",
        "renewals": 0,
    }


@pytest.mark.parametrize(
    ("today", "term"),
    [
        (date(2027, 5, 20), ("2026-06-15", "2027-05-20", "2027-02-20", 0)),
        (date(2027, 5, 21), ("2027-05-21", "2028-05-20", "2028-02-20", 1)),
        (date(2027, 6, 1), ("2027-05-21", "2028-05-20", "2028-02-20", 1)),
        (date(2028, 5, 20), ("2027-05-21", "2028-05-20", "2028-02-20", 1)),
        (date(2028, 6, 1), ("2028-05-21", "2029-05-20", "2029-02-20", 2)),
    ],
)
async def test_worked_example_c_renews_for_a_year_at_a_time(
    client: httpx.AsyncClient,
    admin: Headers,
    customer: Body,
    clock: FixedClock,
    today: date,
    term: tuple[str, str, str, int],
) -> None:
    """R-TERM-2: without notice the term renews from the day after the previous end."""
    contract = await activate(client, admin, await apply(client, admin, customer["id"]))
    at(clock, today)
    read = await get_contract(client, contract["id"], admin)
    start_on, end_on, notice_deadline, renewals = term
    assert read["term"] == {
        "start_on": start_on,
        "end_on": end_on,
        "notice_deadline": notice_deadline,
        "renewals": renewals,
    }


async def test_the_term_turns_over_at_midnight_in_tokyo_not_in_utc(
    client: httpx.AsyncClient, admin: Headers, customer: Body, clock: FixedClock
) -> None:
    """00:30 on 2027-05-21 in Tokyo is still 2027-05-20 in UTC: the renewal has begun."""
    contract = await activate(client, admin, await apply(client, admin, customer["id"]))
    at(clock, date(2027, 5, 20), hour=23, minute=59)
    assert (await get_contract(client, contract["id"], admin))["term"]["renewals"] == 0
    at(clock, date(2027, 5, 21), hour=0, minute=30)
    assert (await get_contract(client, contract["id"], admin))["term"]["renewals"] == 1


@pytest.mark.parametrize(
    ("today", "start_on", "end_on", "renewals"),
    [
        (date(2027, 4, 1), "2027-04-01", "2028-02-29", 0),
        (date(2028, 3, 1), "2028-03-01", "2029-02-28", 1),
        (date(2029, 3, 1), "2029-03-01", "2030-02-28", 2),
        (date(2030, 3, 1), "2030-03-01", "2031-02-28", 3),
        (date(2031, 3, 1), "2031-03-01", "2032-02-29", 4),
        (date(2032, 3, 1), "2032-03-01", "2033-02-28", 5),
    ],
)
async def test_an_onboarding_start_on_2027_02_28_gives_a_first_term_to_the_leap_day(
    client: httpx.AsyncClient,
    admin: Headers,
    customer: Body,
    clock: FixedClock,
    today: date,
    start_on: str,
    end_on: str,
    renewals: int,
) -> None:
    """Worked example C, R-TERM-1/2 (Civil Code art. 143): 2028-02-29, then 2029-02-28, …,
    2032-02-29, 2033-02-28."""
    at(clock, date(2027, 4, 1))
    contract = await apply(
        client,
        admin,
        customer["id"],
        received_on="2027-02-01",
        planned_installation_on="2027-03-15",
    )
    contract = await activate(
        client, admin, contract, started_on=date(2027, 2, 28), completed_on=date(2027, 4, 1)
    )
    assert contract["accepted_on"] == "2027-02-01"
    at(clock, today)
    term = (await get_contract(client, contract["id"], admin))["term"]
    assert (term["start_on"], term["end_on"], term["renewals"]) == (start_on, end_on, renewals)


async def test_no_term_before_the_service_starts(
    client: httpx.AsyncClient, admin: Headers, customer: Body
) -> None:
    contract = await onboarding(client, admin, customer["id"])
    assert contract["term"] is None
    assert contract["service_start_on"] is None


# ---- warranty (R-LC-5, Art. 20.7) --------------------------------------------------------


@pytest.mark.parametrize(
    ("completed_on", "warranty_until"),
    [
        (date(2026, 6, 15), "2026-09-15"),
        (date(2026, 11, 30), "2027-02-28"),
        (date(2026, 5, 31), "2026-08-31"),
    ],
)
async def test_the_free_warranty_runs_three_months_from_the_day_after_completion(
    client: httpx.AsyncClient,
    admin: Headers,
    customer: Body,
    completed_on: date,
    warranty_until: str,
) -> None:
    """R-LC-5: period_end(completed_on + 1 day, 3)."""
    contract = await apply(client, admin, customer["id"])
    assert contract["onboarding"]["warranty_until"] is None
    active = await activate(
        client, admin, contract, started_on=date(2026, 5, 20), completed_on=completed_on
    )
    assert active["onboarding"]["completed_on"] == completed_on.isoformat()
    assert active["onboarding"]["warranty_until"] == warranty_until
    assert (await get_contract(client, contract["id"], admin))["onboarding"][
        "warranty_until"
    ] == warranty_until


# ---- onboarding deadline (R-LC-6, Art. 14.4) -----------------------------------------------


@pytest.mark.parametrize(
    ("received_on", "planned", "deadline"),
    [
        ("2026-05-01", "2026-06-10", "2026-07-31"),
        ("2026-05-01", "2026-06-01", "2026-07-31"),
        ("2026-05-01", "2026-06-30", "2026-07-31"),
        ("2026-11-01", "2027-01-31", "2027-02-28"),
        ("2026-11-01", "2026-12-15", "2027-01-31"),
        ("2026-11-01", "2027-08-31", "2027-09-30"),
    ],
)
async def test_the_deadline_is_the_last_day_of_the_month_after_the_planned_installation(
    client: httpx.AsyncClient,
    admin: Headers,
    customer: Body,
    received_on: str,
    planned: str,
    deadline: str,
) -> None:
    """R-LC-6."""
    contract = await apply(
        client, admin, customer["id"], received_on=received_on, planned_installation_on=planned
    )
    assert contract["onboarding"]["planned_installation_on"] == planned
    assert contract["onboarding"]["deadline"] == deadline


@pytest.mark.parametrize("state", ["accepted", "onboarding"])
async def test_a_contract_not_active_after_its_deadline_is_overdue(
    client: httpx.AsyncClient, admin: Headers, customer: Body, clock: FixedClock, state: str
) -> None:
    """R-LC-6: planned 2026-06-10 → deadline 2026-07-31; overdue from 2026-08-01 (Tokyo)."""
    at(clock, date(2026, 5, 25))
    contract = await accepted(
        client,
        admin,
        customer["id"],
        received_on="2026-05-01",
        planned_installation_on="2026-06-10",
    )
    if state == "onboarding":
        contract = await post_ok(
            client,
            f"/v1/contracts/{contract['id']}/onboarding/start",
            admin,
            {"started_on": "2026-05-20"},
        )
    assert contract["status"] == state
    assert contract["onboarding"]["overdue"] is False

    at(clock, date(2026, 7, 31), hour=23, minute=59)
    on_deadline = (await get_contract(client, contract["id"], admin))["onboarding"]
    assert on_deadline["deadline"] == "2026-07-31"
    assert on_deadline["overdue"] is False
    # 00:00 on 2026-08-01 in Tokyo is still 2026-07-31 in UTC.
    at(clock, date(2026, 8, 1), hour=0, minute=0)
    assert (await get_contract(client, contract["id"], admin))["onboarding"]["overdue"] is True


async def test_an_active_contract_is_never_overdue(
    client: httpx.AsyncClient, admin: Headers, customer: Body, clock: FixedClock
) -> None:
    """R-LC-6: overdue means "not active by the deadline"; once active it is over."""
    contract = await onboarding(
        client,
        admin,
        customer["id"],
        received_on="2026-05-01",
        planned_installation_on="2026-06-10",
    )
    at(clock, date(2026, 8, 1))
    assert (await get_contract(client, contract["id"], admin))["onboarding"]["overdue"] is True
    await all_milestones_done(client, admin, contract, date(2026, 7, 1))
    await inspected(client, admin, contract["id"], date(2026, 8, 1))
    active = await post_ok(
        client,
        f"/v1/contracts/{contract['id']}/onboarding/complete",
        admin,
        {"completed_on": "2026-08-01"},
    )
    assert active["status"] == "active"
    assert active["onboarding"]["overdue"] is False
    at(clock, date(2027, 1, 1))
    assert (await get_contract(client, contract["id"], admin))["onboarding"]["overdue"] is False


@pytest.mark.parametrize("action", ["reject", "withdraw"])
async def test_a_refused_or_withdrawn_application_is_not_overdue(
    client: httpx.AsyncClient, admin: Headers, customer: Body, clock: FixedClock, action: str
) -> None:
    contract = await apply(
        client,
        admin,
        customer["id"],
        received_on="2026-05-01",
        planned_installation_on="2026-06-10",
    )
    body = {"reason": "payment_risk", "notice": "お受けできません。"} if action == "reject" else {}
    await post_ok(client, f"/v1/contracts/{contract['id']}/{action}", admin, body)
    at(clock, date(2026, 12, 1))
    assert (await get_contract(client, contract["id"], admin))["onboarding"]["overdue"] is False


# ---- monthly charge and liability cap (R-CHG-10) ------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "monthly"),
    [
        ({}, 93_000),  # A: 50,000 + 5 × 8,600
        (EXAMPLE_B, 501_200),  # B: 50,000 + 12 × 21,600 + 100,000 + 12 × 1,000 + 80,000
        ({"plan": "foundation-advantage", "license_ids": 25}, 83_000),  # G: 50,000 + 3 × 11,000
        ({"license_ids": 1}, 58_600),
        ({"plan": "complete-essential", "license_ids": 10}, 63_600),
        ({"plan": "complete-essential", "license_ids": 11}, 77_200),
        ({"options": {"soc": False, "reserved_ip": False, "ad_integration": True}}, 93_000),
        (
            {
                "plan": "complete-advantage",
                "license_ids": 1_000_000,
                "options": {"soc": True, "reserved_ip": True, "ad_integration": False},
            },
            # 50,000 + 100,000 × 21,600 + 100,000 + 100,000 × 1,000 + 80,000
            2_260_230_000,
        ),
    ],
    ids=["A", "B", "G", "one-id", "ten-ids", "eleven-ids", "ad-integration-is-one-time", "max"],
)
async def test_the_monthly_charge_and_the_liability_cap_to_the_yen(
    client: httpx.AsyncClient, admin: Headers, customer: Body, overrides: Body, monthly: int
) -> None:
    """R-CAT-2, R-CAT-3, R-CHG-10 (Art. 28.3): the cap is one month of the monthly charge."""
    contract = await apply(client, admin, customer["id"], **overrides)
    assert contract["monthly_charge"] == monthly
    assert contract["liability_cap"] == monthly
    read = await get_contract(client, contract["id"], admin)
    assert (read["monthly_charge"], read["liability_cap"]) == (monthly, monthly)
    listed = await client.get(
        "/v1/contracts", params={"customer_id": customer["id"]}, headers=admin
    )
    (item,) = listed.json()["items"]
    assert (item["monthly_charge"], item["liability_cap"]) == (monthly, monthly)
