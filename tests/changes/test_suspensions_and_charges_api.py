"""Suspensions (R-LC-9) and ad-hoc charges (R-CHG-8, R-CHG-9) with the charge ledger
(GET /v1/contracts/{id}/charges). Example B: active from 2026-06-15; today 2026-11-24.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import FixedClock
from tests.conftest import KeyFactory
from tests.contracts.changes_support import (
    B_MONTHLY,
    Headers,
    event_types,
    example_b,
    invoice_month,
    ledger,
    problem,
    read,
)
from tests.contracts.steps import accepted, at
from tests.support.databases import BoundDatabase
from tests.support.factories import create_customer


async def _suspend(
    client: httpx.AsyncClient, headers: Headers, contract_id: str, **body: Any
) -> httpx.Response:
    return await client.post(f"/v1/contracts/{contract_id}/suspensions", json=body, headers=headers)


async def _charge(
    client: httpx.AsyncClient, headers: Headers, contract_id: str, **body: Any
) -> httpx.Response:
    return await client.post(f"/v1/contracts/{contract_id}/charges", json=body, headers=headers)


# --- suspensions -----------------------------------------------------------------------------


async def test_r_lc_9_a_suspension_is_recorded_with_its_reason(
    client: httpx.AsyncClient, admin: Headers, session: AsyncSession
) -> None:
    contract = await example_b(client, admin)
    response = await _suspend(
        client, admin, contract["id"], starts_on="2026-12-01", ends_on="2026-12-15", reason="breach"
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["starts_on"], body["ends_on"], body["reason"]) == (
        "2026-12-01",
        "2026-12-15",
        "breach",
    )
    open_ended = await _suspend(
        client, admin, contract["id"], starts_on="2027-01-10", reason="third_party_harm"
    )
    assert open_ended.status_code == 201, open_ended.text
    listed = await client.get(f"/v1/contracts/{contract['id']}/suspensions", headers=admin)
    assert listed.status_code == 200, listed.text
    assert [(s["starts_on"], s["ends_on"], s["reason"]) for s in listed.json()["items"]] == [
        ("2027-01-10", None, "third_party_harm"),
        ("2026-12-01", "2026-12-15", "breach"),
    ]
    assert (await event_types(session, contract["id"]))[-2:] == [
        "contract.suspended",
        "contract.suspended",
    ]


async def test_r_lc_9_overlapping_suspensions_are_a_conflict(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    contract = await example_b(client, admin)
    first = await _suspend(
        client, admin, contract["id"], starts_on="2026-12-01", ends_on="2026-12-15", reason="other"
    )
    assert first.status_code == 201, first.text
    for starts_on, ends_on in (
        ("2026-12-15", "2026-12-20"),  # shares the last day
        ("2026-11-25", "2026-12-01"),  # shares the first day
        ("2026-11-25", None),  # open-ended over it
        ("2026-12-05", "2026-12-06"),  # inside it
    ):
        body = problem(
            await _suspend(
                client,
                admin,
                contract["id"],
                starts_on=starts_on,
                ends_on=ends_on,
                reason="maintenance",
            ),
            409,
            "suspension_overlaps",
        )
        assert body["suspension_id"] == first.json()["id"]
    after = await _suspend(
        client, admin, contract["id"], starts_on="2026-12-16", reason="contractor_request"
    )
    assert after.status_code == 201, after.text
    problem(
        await _suspend(client, admin, contract["id"], starts_on="2027-06-01", reason="other"),
        409,
        "suspension_overlaps",
    )


async def test_r_lc_9_billing_goes_on_during_a_suspension(
    client: httpx.AsyncClient, admin: Headers, clock: FixedClock
) -> None:
    contract = await example_b(client, admin)
    response = await _suspend(
        client, admin, contract["id"], starts_on="2026-12-01", ends_on="2026-12-31", reason="breach"
    )
    assert response.status_code == 201, response.text
    at(clock, date(2026, 12, 10))
    during = await read(client, contract["id"], admin)
    assert during["status"] == "active"
    assert during["monthly_charge"] == B_MONTHLY
    assert await ledger(client, contract, admin) == []


async def _end(
    client: httpx.AsyncClient, headers: Headers, contract_id: str, suspension_id: str, ends_on: str
) -> httpx.Response:
    return await client.post(
        f"/v1/contracts/{contract_id}/suspensions/{suspension_id}/end",
        json={"ends_on": ends_on},
        headers=headers,
    )


async def test_r_lc_9_an_open_ended_suspension_is_ended_once_and_the_contract_resumes(
    client: httpx.AsyncClient, admin: Headers, session: AsyncSession
) -> None:
    """Art. 18: the carrier sets the period, which it may learn only later."""
    contract = await example_b(client, admin)
    opened = await _suspend(
        client, admin, contract["id"], starts_on="2026-12-01", reason="third_party_harm"
    )
    assert opened.status_code == 201, opened.text
    suspension = opened.json()["id"]
    version = (await client.get(f"/v1/contracts/{contract['id']}", headers=admin)).headers["ETag"]

    # The last day may be the first day (a one-day suspension)...
    ended = await _end(client, admin, contract["id"], suspension, "2026-12-01")
    assert ended.status_code == 200, ended.text
    assert (ended.json()["starts_on"], ended.json()["ends_on"]) == ("2026-12-01", "2026-12-01")
    # ...and the contract's history says when the service resumed (the day after).
    assert (await event_types(session, contract["id"]))[-1] == "contract.resumed"
    history = await client.get(f"/v1/contracts/{contract['id']}/events", headers=admin)
    resumed = history.json()["items"][0]
    assert (resumed["type"], resumed["business_date"]) == ("contract.resumed", "2026-12-02")
    after = await client.get(f"/v1/contracts/{contract['id']}", headers=admin)
    assert after.headers["ETag"] != version

    # Once: an ended suspension keeps its end.
    again = problem(
        await _end(client, admin, contract["id"], suspension, "2026-12-20"),
        409,
        "suspension_already_ended",
    )
    assert (again["rule"], again["ends_on"]) == ("R-LC-9", "2026-12-01")
    # The period is closed: a new suspension may start the day after.
    later = await _suspend(client, admin, contract["id"], starts_on="2026-12-02", reason="other")
    assert later.status_code == 201, later.text


async def test_r_lc_9_a_suspension_cannot_end_before_it_starts_nor_after_the_contract(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    contract = await example_b(client, admin)
    opened = await _suspend(client, admin, contract["id"], starts_on="2026-12-10", reason="breach")
    suspension = opened.json()["id"]
    early = problem(
        await _end(client, admin, contract["id"], suspension, "2026-12-09"),
        422,
        "date_out_of_order",
    )
    assert (early["rule"], early["earliest_allowed"]) == ("R-LC-9", "2026-12-10")
    listed = await client.get(f"/v1/contracts/{contract['id']}/suspensions", headers=admin)
    assert listed.json()["items"][0]["ends_on"] is None  # nothing changed


async def test_r_lc_9_ending_an_unknown_or_another_contracts_suspension_is_404(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    first = await example_b(client, admin)
    second = await example_b(client, admin)
    opened = await _suspend(client, admin, first["id"], starts_on="2026-12-10", reason="other")
    suspension = opened.json()["id"]
    problem(
        await _end(client, admin, second["id"], suspension, "2026-12-11"),
        404,
        "suspension_not_found",
    )
    problem(
        await _end(client, admin, first["id"], "sus_nope", "2026-12-11"),
        404,
        "suspension_not_found",
    )


async def test_r_lc_9_only_an_active_contract_is_suspended(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    customer = await create_customer(client, admin)
    contract = await accepted(client, admin, customer["id"])
    body = problem(
        await _suspend(client, admin, contract["id"], starts_on="2026-12-01", reason="other"),
        409,
        "invalid_transition",
    )
    assert body["current_status"] == "accepted"


async def test_r_lc_9_a_suspension_needs_sound_dates_and_a_known_reason(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    contract = await example_b(client, admin)
    reversed_ = problem(
        await _suspend(
            client,
            admin,
            contract["id"],
            starts_on="2026-12-10",
            ends_on="2026-12-09",
            reason="other",
        ),
        422,
        "date_out_of_order",
    )
    assert reversed_["earliest_allowed"] == "2026-12-10"
    problem(
        await _suspend(client, admin, contract["id"], starts_on="2026-06-14", reason="other"),
        422,
        "before_service_start",
    )
    problem(
        await _suspend(client, admin, contract["id"], starts_on="2026-12-01", reason="holiday"),
        422,
        "validation_error",
    )
    listed = await client.get(f"/v1/contracts/{contract['id']}/suspensions", headers=admin)
    assert listed.json() == {"items": [], "next_cursor": None}


# --- ad-hoc charges ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["overage", "work", "collection", "other"])
async def test_r_chg_9_ad_hoc_charges_are_taxable_by_default(
    client: httpx.AsyncClient, admin: Headers, kind: str
) -> None:
    contract = await example_b(client, admin)
    response = await _charge(
        client,
        admin,
        contract["id"],
        kind=kind,
        description="11月分",
        amount=123_456,
        month="2026-11",
    )
    assert response.status_code == 201, response.text
    (recorded,) = response.json()
    assert (
        recorded["kind"],
        recorded["item"],
        recorded["description"],
        recorded["amount"],
        recorded["taxable"],
        recorded["month"],
        recorded["rule"],
        recorded["invoice_id"],
    ) == (kind, kind, "11月分", 123_456, True, "2026-11", "R-CHG-9", None)
    assert [c["id"] for c in await ledger(client, contract, admin)] == [recorded["id"]]


async def test_r_chg_9_taxable_false_is_honoured(client: httpx.AsyncClient, admin: Headers) -> None:
    contract = await example_b(client, admin)
    response = await _charge(
        client,
        admin,
        contract["id"],
        kind="collection",
        description="督促費用",
        amount=5_000,
        month="2026-12",
        taxable=False,
    )
    assert response.status_code == 201, response.text
    assert [(c["amount"], c["taxable"]) for c in response.json()] == [(5_000, False)]


async def test_r_chg_8_a_surcharge_records_x_and_2x_both_taxable(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    contract = await example_b(client, admin)
    response = await _charge(
        client,
        admin,
        contract["id"],
        kind="surcharge",
        description="不正利用",
        amount=100_000,
        month="2026-11",
    )
    assert response.status_code == 201, response.text
    assert [
        (c["item"], c["quantity"], c["unit_price"], c["amount"], c["taxable"], c["rule"])
        for c in response.json()
    ] == [
        ("surcharge", 1, 100_000, 100_000, True, "R-CHG-8"),
        ("surcharge", 2, 100_000, 200_000, True, "R-CHG-8"),
    ]
    assert sorted(c["amount"] for c in await ledger(client, contract, admin)) == [
        100_000,
        200_000,
    ]


async def test_r_chg_9_a_month_outside_the_service_is_refused(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    contract = await example_b(client, admin)
    before = problem(
        await _charge(
            client, admin, contract["id"], kind="work", description="x", amount=1, month="2026-05"
        ),
        422,
        "month_outside_service",
    )
    assert before["first_month"] == "2026-06"
    terminated = await client.post(
        f"/v1/contracts/{contract['id']}/terminations",
        json={"reason": "service_discontinued", "effective_on": "2026-12-10"},
        headers=admin,
    )
    assert terminated.status_code == 200, terminated.text
    after = problem(
        await _charge(
            client, admin, contract["id"], kind="work", description="x", amount=1, month="2027-01"
        ),
        422,
        "month_outside_service",
    )
    assert after["last_month"] == "2026-12"
    last = await _charge(
        client, admin, contract["id"], kind="work", description="x", amount=1, month="2026-12"
    )
    assert last.status_code == 201, last.text


async def test_r_chg_9_a_charge_for_an_invoiced_month_is_refused(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase, clock: FixedClock
) -> None:
    contract = await example_b(client, admin)
    await invoice_month(database, clock, contract, "2026-11")
    problem(
        await _charge(
            client,
            admin,
            contract["id"],
            kind="overage",
            description="x",
            amount=1,
            month="2026-11",
        ),
        409,
        "month_already_invoiced",
    )
    assert await ledger(client, contract, admin) == []


@pytest.mark.parametrize("amount", [0, -1, 10**12 + 1])  # at most 10^12 yen (issue 9 §4)
async def test_r_chg_9_the_amount_is_positive_whole_yen(
    client: httpx.AsyncClient, admin: Headers, amount: int
) -> None:
    contract = await example_b(client, admin)
    body = problem(
        await _charge(
            client,
            admin,
            contract["id"],
            kind="work",
            description="作業",
            amount=amount,
            month="2026-12",
        ),
        422,
        "validation_error",
    )
    assert [e["field"] for e in body["errors"]] == ["amount"]


async def test_the_ledger_lists_every_charge_unbilled_newest_first(
    client: httpx.AsyncClient, admin: Headers, make_key: KeyFactory
) -> None:
    contract = await example_b(client, admin)
    await _charge(
        client,
        admin,
        contract["id"],
        kind="overage",
        description="a",
        amount=1_000,
        month="2026-11",
    )
    await _charge(
        client,
        admin,
        contract["id"],
        kind="surcharge",
        description="b",
        amount=2_000,
        month="2026-12",
    )
    await client.post(
        f"/v1/contracts/{contract['id']}/license-changes",
        json={"license_ids": 60, "effective_on": "2026-12-10", "notice_on": "2026-09-10"},
        headers=admin,
    )
    charges = await ledger(client, contract, admin)
    assert [(c["kind"], c["amount"]) for c in charges] == [
        ("early-termination", 678_000),
        ("surcharge", 4_000),
        ("surcharge", 2_000),
        ("overage", 1_000),
    ]
    assert {c["invoice_id"] for c in charges} == {None}
    assert set(charges[0]) == {
        "id",
        "kind",
        "item",
        "description",
        "quantity",
        "unit_price",
        "amount",
        "taxable",
        "month",
        "rule",
        "invoice_id",
        "created_at",
    }
    # Every reader sees it; the activation's one-time items are there too (R-CHG-3).
    crm = await make_key("crm")
    everything = await ledger(client, contract["id"], crm)
    assert len(everything) == 4 + len(contract["initial_charge_ids"])
    paged = await client.get(
        f"/v1/contracts/{contract['id']}/charges", params={"limit": 2}, headers=admin
    )
    assert len(paged.json()["items"]) == 2
    assert paged.json()["next_cursor"] is not None


async def test_only_operators_add_charges_to_running_contracts(
    client: httpx.AsyncClient, admin: Headers, make_key: KeyFactory
) -> None:
    contract = await example_b(client, admin)
    crm = await make_key("crm")
    problem(
        await _charge(
            client, crm, contract["id"], kind="work", description="x", amount=1, month="2026-12"
        ),
        403,
        "forbidden",
    )
    customer = await create_customer(client, admin)
    pending = await accepted(client, admin, customer["id"])
    problem(
        await _charge(
            client, admin, pending["id"], kind="work", description="x", amount=1, month="2026-12"
        ),
        409,
        "invalid_transition",
    )


async def test_issue_9_s6_suspensions_page_with_limit_and_cursor(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    """issue 9 §6: `{items, next_cursor}` like every list, newest first (API.md "Lists")."""
    contract = await example_b(client, admin)
    for starts_on, ends_on in [("2026-12-01", "2026-12-15"), ("2027-01-10", "2027-01-20")]:
        created = await _suspend(
            client, admin, contract["id"], starts_on=starts_on, ends_on=ends_on, reason="breach"
        )
        assert created.status_code == 201, created.text
    path = f"/v1/contracts/{contract['id']}/suspensions"
    first = (await client.get(path, params={"limit": 1}, headers=admin)).json()
    assert [s["starts_on"] for s in first["items"]] == ["2027-01-10"]
    second = await client.get(
        path, params={"limit": 1, "cursor": first["next_cursor"]}, headers=admin
    )
    assert [s["starts_on"] for s in second.json()["items"]] == ["2026-12-01"]
    assert second.json()["next_cursor"] is None
    tampered = await client.get(path, params={"cursor": "bm90LWEtY3Vyc29y"}, headers=admin)
    assert (tampered.status_code, tampered.json()["code"]) == (422, "invalid_cursor")
