"""Adding and removing options (R-CAT-3, R-LC-7, R-CHG-2, R-CHG-3, R-CHG-5).

Example A (no options, 93,000 a month) gains options; example B (soc, reserved_ip,
ad_integration; 501,200 a month; term end 2027-05-20) loses them. Today is 2026-11-24.
"""

from __future__ import annotations

from datetime import date

import httpx

from app.core.clock import FixedClock
from tests.contracts.changes_support import (
    Body,
    Headers,
    example_a,
    example_b,
    invoice_month,
    ledger,
    problem,
    read,
)
from tests.contracts.steps import at
from tests.support.databases import BoundDatabase


async def _add(
    client: httpx.AsyncClient, headers: Headers, contract_id: str, option: str, effective_on: str
) -> httpx.Response:
    return await client.post(
        f"/v1/contracts/{contract_id}/options",
        json={"option": option, "effective_on": effective_on},
        headers=headers,
    )


async def _remove(
    client: httpx.AsyncClient,
    headers: Headers,
    contract_id: str,
    option: str,
    effective_on: str,
    notice_on: str,
) -> httpx.Response:
    return await client.post(
        f"/v1/contracts/{contract_id}/option-removals",
        json={"option": option, "effective_on": effective_on, "notice_on": notice_on},
        headers=headers,
    )


def _summary(charges: list[Body]) -> list[tuple[str, str, int, bool, str, str]]:
    return [
        (c["kind"], c["item"], c["amount"], c["taxable"], c["month"], c["rule"]) for c in charges
    ]


async def test_r_cat_3_soc_cannot_be_added_after_the_application(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    contract = await example_a(client, admin)
    body = problem(
        await _add(client, admin, contract["id"], "soc", "2026-12-01"),
        422,
        "soc_only_on_application",
    )
    assert body["rule"] == "R-CAT-3"
    assert (await read(client, contract["id"], admin))["options"]["soc"] is False


async def test_r_lc_7_reserved_ip_may_be_added_at_any_time(
    client: httpx.AsyncClient, admin: Headers, clock: FixedClock
) -> None:
    contract = await example_a(client, admin)
    assert contract["monthly_charge"] == 93_000
    response = await _add(client, admin, contract["id"], "reserved_ip", "2026-12-01")
    assert response.status_code == 200, response.text
    # Not yet in effect today (2026-11-24): the contract reads as before.
    assert response.json()["options"]["reserved_ip"] is False
    assert response.json()["monthly_charge"] == 93_000
    at(clock, date(2026, 12, 1))
    now = await read(client, contract["id"], admin)
    assert now["options"]["reserved_ip"] is True
    assert now["monthly_charge"] == 93_000 + 80_000
    assert await ledger(client, contract, admin) == []  # a monthly item, not a ledger charge


async def test_r_lc_7_reserved_ip_added_on_a_past_day_of_an_open_month_reads_at_once(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    contract = await example_a(client, admin)
    response = await _add(client, admin, contract["id"], "reserved_ip", "2026-11-10")
    assert response.status_code == 200, response.text
    assert response.json()["options"]["reserved_ip"] is True
    assert response.json()["monthly_charge"] == 173_000


async def test_r_chg_2_reserved_ip_added_twice_over_the_same_days_is_a_conflict(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    contract = await example_a(client, admin)
    first = await _add(client, admin, contract["id"], "reserved_ip", "2026-12-01")
    assert first.status_code == 200, first.text
    body = problem(
        await _add(client, admin, contract["id"], "reserved_ip", "2027-01-01"),
        409,
        "option_already_active",
    )
    assert body["option"] == "reserved_ip"
    problem(
        await _add(client, admin, contract["id"], "reserved_ip", "2026-11-25"),
        409,
        "option_already_active",
    )
    # Example B has it from its application.
    b = await example_b(client, admin)
    problem(
        await _add(client, admin, b["id"], "reserved_ip", "2026-12-01"),
        409,
        "option_already_active",
    )


async def test_r_lc_7_reserved_ip_removed_then_added_again_after_its_end(
    client: httpx.AsyncClient, admin: Headers, clock: FixedClock
) -> None:
    contract = await example_b(client, admin)
    removed = await _remove(
        client, admin, contract["id"], "reserved_ip", "2026-12-10", "2026-09-10"
    )
    assert removed.status_code == 200, removed.text
    problem(
        await _add(client, admin, contract["id"], "reserved_ip", "2026-12-10"),
        409,
        "option_already_active",
    )
    again = await _add(client, admin, contract["id"], "reserved_ip", "2027-02-01")
    assert again.status_code == 200, again.text
    at(clock, date(2027, 1, 15))
    assert (await read(client, contract["id"], admin))["options"]["reserved_ip"] is False
    at(clock, date(2027, 2, 1))
    assert (await read(client, contract["id"], admin))["options"]["reserved_ip"] is True


async def test_r_lc_7_ad_integration_is_added_once_as_a_one_time_taxable_charge(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    contract = await example_a(client, admin)
    response = await _add(client, admin, contract["id"], "ad_integration", "2026-12-05")
    assert response.status_code == 200, response.text
    assert response.json()["options"]["ad_integration"] is True
    assert response.json()["monthly_charge"] == 93_000  # one-time, not monthly
    charges = await ledger(client, contract, admin)
    assert _summary(charges) == [
        ("one-time", "ad-integration", 350_000, True, "2026-12", "R-CHG-3")
    ]
    assert charges[0]["invoice_id"] is None
    body = problem(
        await _add(client, admin, contract["id"], "ad_integration", "2027-01-05"),
        409,
        "option_already_added",
    )
    assert body["rule"] == "R-LC-7"
    assert len(await ledger(client, contract, admin)) == 1


async def test_r_chg_3_ad_integration_dated_in_an_invoiced_month_bills_on_the_next_invoice(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase, clock: FixedClock
) -> None:
    contract = await example_a(client, admin)
    await invoice_month(database, clock, contract, "2026-11")
    response = await _add(client, admin, contract["id"], "ad_integration", "2026-11-10")
    assert response.status_code == 200, response.text
    assert _summary(await ledger(client, contract, admin)) == [
        ("one-time", "ad-integration", 350_000, True, "2026-12", "R-CHG-3")
    ]


async def test_r_lc_7_ad_integration_chosen_on_the_application_cannot_be_added_again(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    contract = await example_b(client, admin)
    problem(
        await _add(client, admin, contract["id"], "ad_integration", "2026-12-05"),
        409,
        "option_already_added",
    )
    assert await ledger(client, contract, admin) == []


async def test_an_option_added_before_the_service_start_is_refused(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    contract = await example_a(client, admin)
    problem(
        await _add(client, admin, contract["id"], "reserved_ip", "2026-06-14"),
        422,
        "before_service_start",
    )


async def test_an_option_added_in_an_invoiced_month_is_refused(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase, clock: FixedClock
) -> None:
    contract = await example_a(client, admin)
    await invoice_month(database, clock, contract, "2026-11")
    problem(
        await _add(client, admin, contract["id"], "reserved_ip", "2026-11-20"),
        409,
        "month_already_invoiced",
    )


async def test_r_term_3_an_option_removal_needs_a_timely_notice(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    contract = await example_b(client, admin)
    late = problem(
        await _remove(client, admin, contract["id"], "reserved_ip", "2026-12-10", "2026-09-11"),
        422,
        "notice_too_late",
    )
    assert late["rule"] == "R-TERM-3"
    assert late["earliest_effective_on"] == "2026-12-11"
    missing = await client.post(
        f"/v1/contracts/{contract['id']}/option-removals",
        json={"option": "reserved_ip", "effective_on": "2027-03-10"},
        headers=admin,
    )
    body = problem(missing, 422, "validation_error")
    assert [e["field"] for e in body["errors"]] == ["notice_on"]
    assert await ledger(client, contract, admin) == []
    assert (await read(client, contract["id"], admin))["options"]["reserved_ip"] is True


async def test_r_lc_7_removing_reserved_ip_bears_its_partial_early_termination_charge(
    client: httpx.AsyncClient, admin: Headers, clock: FixedClock
) -> None:
    """B without reserved IP from 2026-12-10: January to May 2027, 5 × 80,000 = 400,000."""
    contract = await example_b(client, admin)
    response = await _remove(
        client, admin, contract["id"], "reserved_ip", "2026-12-10", "2026-09-10"
    )
    assert response.status_code == 200, response.text
    assert response.json()["options"]["reserved_ip"] is True  # still in effect today
    charges = await ledger(client, contract, admin)
    assert _summary(charges) == [
        ("early-termination", "early-termination", 400_000, False, "2026-12", "R-CHG-5")
    ]
    assert (charges[0]["quantity"], charges[0]["unit_price"]) == (5, 80_000)
    at(clock, date(2027, 1, 5))
    after = await read(client, contract["id"], admin)
    assert after["options"] == {"soc": True, "reserved_ip": False, "ad_integration": True}
    assert after["monthly_charge"] == 501_200 - 80_000


async def test_r_lc_7_removing_soc_removes_its_base_and_its_users(
    client: httpx.AsyncClient, admin: Headers, clock: FixedClock
) -> None:
    """5 × (100,000 + 12 × 1,000) = 560,000."""
    contract = await example_b(client, admin)
    response = await _remove(client, admin, contract["id"], "soc", "2026-12-10", "2026-09-10")
    assert response.status_code == 200, response.text
    assert _summary(await ledger(client, contract, admin)) == [
        ("early-termination", "early-termination", 560_000, False, "2026-12", "R-CHG-5")
    ]
    at(clock, date(2027, 1, 5))
    after = await read(client, contract["id"], admin)
    assert after["options"]["soc"] is False
    assert after["monthly_charge"] == 50_000 + 12 * 21_600 + 80_000


async def test_r_lc_7_removing_an_option_added_later_charges_the_rest_of_the_term(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    """A adds reserved IP in December, removes it effective 2027-03-10 (notice today):
    April and May 2027, 2 × 80,000 = 160,000."""
    contract = await example_a(client, admin)
    await _add(client, admin, contract["id"], "reserved_ip", "2026-12-01")
    response = await _remove(
        client, admin, contract["id"], "reserved_ip", "2027-03-10", "2026-11-24"
    )
    assert response.status_code == 200, response.text
    assert _summary(await ledger(client, contract, admin)) == [
        ("early-termination", "early-termination", 160_000, False, "2027-03", "R-CHG-5")
    ]


async def test_r_cat_1_ad_integration_cannot_be_removed(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    contract = await example_b(client, admin)
    body = problem(
        await _remove(client, admin, contract["id"], "ad_integration", "2026-12-10", "2026-09-10"),
        422,
        "option_not_removable",
    )
    assert body["allowed"] == ["soc", "reserved_ip"]


async def test_removing_an_option_not_in_effect_is_a_conflict(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    contract = await example_a(client, admin)
    body = problem(
        await _remove(client, admin, contract["id"], "reserved_ip", "2026-12-10", "2026-09-10"),
        409,
        "option_not_active",
    )
    assert body["option"] == "reserved_ip"
    b = await example_b(client, admin)
    first = await _remove(client, admin, b["id"], "reserved_ip", "2026-12-10", "2026-09-10")
    assert first.status_code == 200, first.text
    problem(
        await _remove(client, admin, b["id"], "reserved_ip", "2027-01-10", "2026-09-10"),
        409,
        "option_not_active",
    )
    assert len(await ledger(client, b, admin)) == 1


async def test_an_option_removal_in_an_invoiced_month_is_refused(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase, clock: FixedClock
) -> None:
    contract = await example_b(client, admin)
    await invoice_month(database, clock, contract, "2026-11")
    problem(
        await _remove(client, admin, contract["id"], "reserved_ip", "2026-11-10", "2026-08-10"),
        409,
        "month_already_invoiced",
    )
    assert await ledger(client, contract, admin) == []
