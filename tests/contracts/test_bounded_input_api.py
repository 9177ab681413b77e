"""issue 9 §4: the business dates and amounts of the contract requests are bounded, and a
refused request stores nothing.

The business window runs from 2000-01-01 to 31 December of (today's Tokyo year + 5): the
test clock stands at 2026-11-24, so the last allowed day is 2031-12-31. Example B is active
from 2026-06-15 with 120 IDs; example A from 2026-06-15 with 50 IDs.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.contracts.models import Contract, LicenceChange
from tests.contracts.changes_support import (
    Body,
    Headers,
    charge_count,
    example_a,
    example_b,
    ledger,
    problem,
    read,
)
from tests.contracts.steps import accepted, event_count, version_of
from tests.support.bounds import (
    BAD_AMOUNTS,
    LAST_ALLOWED,
    MONTHS_OUT_OF_WINDOW,
    OUT_OF_WINDOW,
    out_of_range,
    post_raw,
    with_raw,
)
from tests.support.factories import application_body, create_customer, post_ok


async def _contracts(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Contract)) or 0)


async def _licence_changes(session: AsyncSession, contract_id: str) -> int:
    stmt = select(func.count()).where(LicenceChange.contract_id == contract_id)
    return int(await session.scalar(stmt) or 0)


# --- applications ----------------------------------------------------------------------


@pytest.mark.parametrize("received_on", OUT_OF_WINDOW)
async def test_issue_9_s4_an_application_received_outside_the_window_is_refused(
    client: httpx.AsyncClient, admin: Headers, session: AsyncSession, received_on: str
) -> None:
    customer = await create_customer(client, admin)
    before = await _contracts(session)
    body = application_body(
        customer["id"], received_on=received_on, planned_installation_on="9999-12-31"
    )
    response = await client.post("/v1/contracts", json=body, headers=admin)
    out_of_range(response, "received_on")
    out_of_range(response, "planned_installation_on")
    assert await _contracts(session) == before


async def test_issue_9_s4_an_application_on_the_first_and_last_allowed_days_is_accepted(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    customer = await create_customer(client, admin)
    body = application_body(
        customer["id"], received_on="2000-01-01", planned_installation_on=LAST_ALLOWED
    )
    response = await client.post("/v1/contracts", json=body, headers=admin)
    assert response.status_code == 201, response.text
    assert response.json()["received_on"] == "2000-01-01"
    # One day after the last allowed day was a 500 (year 10000) for 9999-12-31; now a 422.
    late = application_body(customer["id"], planned_installation_on="2032-01-01")
    out_of_range(
        await client.post("/v1/contracts", json=late, headers=admin), "planned_installation_on"
    )


async def test_issue_9_s4_received_0001_01_01_no_longer_blocks_other_customers(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    """It used to be stored, first in the queue, and every other acceptance got 409
    earlier_application_pending (R-LC-2)."""
    mallory = await create_customer(client, admin, name="株式会社いたずら")
    body = application_body(mallory["id"], received_on="0001-01-01")
    out_of_range(await client.post("/v1/contracts", json=body, headers=admin), "received_on")
    other = await create_customer(client, admin, name="株式会社まじめ")
    filed = await client.post("/v1/contracts", json=application_body(other["id"]), headers=admin)
    assert filed.status_code == 201, filed.text
    accept = await client.post(f"/v1/contracts/{filed.json()['id']}/accept", json={}, headers=admin)
    assert accept.status_code == 200, accept.text


@pytest.mark.parametrize("license_ids", ["50.0", "5e1", '"50"', "true"])
async def test_issue_9_s4_licence_ids_are_json_integers(
    client: httpx.AsyncClient, admin: Headers, session: AsyncSession, license_ids: str
) -> None:
    customer = await create_customer(client, admin)
    before = await _contracts(session)
    body = with_raw(application_body(customer["id"]), "license_ids", license_ids)
    response = await post_raw(client, "/v1/contracts", admin, body)
    assert problem(response, 422, "validation_error")["errors"][0]["field"] == "license_ids"
    assert await _contracts(session) == before


# --- licence changes -------------------------------------------------------------------


async def _change(
    client: httpx.AsyncClient, headers: Headers, contract_id: str, **body: Any
) -> httpx.Response:
    return await client.post(
        f"/v1/contracts/{contract_id}/license-changes", json=body, headers=headers
    )


@pytest.mark.parametrize("effective_on", OUT_OF_WINDOW)
async def test_issue_9_s4_a_licence_change_outside_the_window_is_refused_and_stores_nothing(
    client: httpx.AsyncClient, admin: Headers, session: AsyncSession, effective_on: str
) -> None:
    """9999-12-31 used to be stored and then every later change was out of order:
    the contract was blocked for good (R-LC-7)."""
    contract = await example_a(client, admin)
    version = await version_of(session, contract["id"])
    events = await event_count(session, contract["id"])
    response = await _change(
        client, admin, contract["id"], license_ids=60, effective_on=effective_on
    )
    out_of_range(response, "effective_on")
    assert await _licence_changes(session, contract["id"]) == 0
    assert await version_of(session, contract["id"]) == version
    assert await event_count(session, contract["id"]) == events
    # The contract is not blocked: an ordinary change still goes through.
    ok = await _change(client, admin, contract["id"], license_ids=60, effective_on="2026-12-01")
    assert ok.status_code == 201, ok.text


async def test_issue_9_s4_a_licence_change_on_the_last_allowed_day_is_accepted(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    contract = await example_a(client, admin)
    response = await _change(
        client, admin, contract["id"], license_ids=60, effective_on=LAST_ALLOWED
    )
    assert response.status_code == 201, response.text
    assert response.json()["effective_on"] == LAST_ALLOWED


async def test_issue_9_s4_a_decrease_notice_outside_the_window_is_refused(
    client: httpx.AsyncClient, admin: Headers, session: AsyncSession
) -> None:
    contract = await example_b(client, admin)
    for notice_on in ("0001-01-01", "9999-12-31"):
        response = await _change(
            client,
            admin,
            contract["id"],
            license_ids=60,
            effective_on="2027-04-10",
            notice_on=notice_on,
        )
        out_of_range(response, "notice_on")
    assert await _licence_changes(session, contract["id"]) == 0
    assert await ledger(client, contract, admin) == []


@pytest.mark.parametrize("license_ids", ["60.0", "6e1"])
async def test_issue_9_s4_a_licence_change_quantity_is_a_json_integer(
    client: httpx.AsyncClient, admin: Headers, session: AsyncSession, license_ids: str
) -> None:
    contract = await example_a(client, admin)
    body = with_raw({"license_ids": 60, "effective_on": "2026-12-01"}, "license_ids", license_ids)
    response = await post_raw(
        client, f"/v1/contracts/{contract['id']}/license-changes", admin, body
    )
    assert problem(response, 422, "validation_error")["errors"][0]["field"] == "license_ids"
    assert await _licence_changes(session, contract["id"]) == 0


# --- termination quotes and terminations ------------------------------------------------


async def _quote(
    client: httpx.AsyncClient, headers: Headers, contract_id: str, **params: Any
) -> httpx.Response:
    return await client.get(
        f"/v1/contracts/{contract_id}/termination-quote", params=params, headers=headers
    )


@pytest.mark.parametrize("day", OUT_OF_WINDOW)
async def test_issue_9_s4_a_termination_quote_outside_the_window_is_a_422_not_a_500(
    client: httpx.AsyncClient, admin: Headers, day: str
) -> None:
    contract = await example_b(client, admin)
    out_of_range(await _quote(client, admin, contract["id"], effective_on=day), "effective_on")
    out_of_range(
        await _quote(client, admin, contract["id"], effective_on="2027-03-10", notice_on=day),
        "notice_on",
    )


async def test_issue_9_s4_a_termination_quote_on_the_last_allowed_day_answers(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    """2031-12-31 lies in the term 2031-05-21 … 2032-05-20: five months remain."""
    contract = await example_b(client, admin)
    response = await _quote(client, admin, contract["id"], effective_on=LAST_ALLOWED)
    assert response.status_code == 200, response.text
    quote = response.json()
    assert (quote["allowed"], quote["term_end_on"], quote["months"]) == (True, "2032-05-20", 5)


@pytest.mark.parametrize("field", ["effective_on", "notice_on"])
async def test_issue_9_s4_a_termination_outside_the_window_is_refused_and_stores_nothing(
    client: httpx.AsyncClient, admin: Headers, session: AsyncSession, field: str
) -> None:
    contract = await example_b(client, admin)
    version = await version_of(session, contract["id"])
    body = {"reason": "contractor_request", "effective_on": "2027-03-10", "notice_on": "2026-11-24"}
    response = await client.post(
        f"/v1/contracts/{contract['id']}/terminations",
        json={**body, field: "9999-12-31"},
        headers=admin,
    )
    out_of_range(response, field)
    assert (await read(client, contract["id"], admin))["termination"] is None
    assert await version_of(session, contract["id"]) == version
    assert await ledger(client, contract, admin) == []


@pytest.mark.parametrize("amount", BAD_AMOUNTS)
async def test_issue_9_s4_a_cost_is_whole_positive_yen_up_to_10_12(
    client: httpx.AsyncClient, admin: Headers, session: AsyncSession, amount: str
) -> None:
    """Costs billed on a cancellation (Art. 9.2): refused before anything is stored."""
    customer = await create_customer(client, admin)
    contract = await accepted(client, admin, customer["id"])
    body = {"cancelled_on": "2026-11-24", "actual_costs": [{"description": "x", "amount": 1}]}
    response = await post_raw(
        client,
        f"/v1/contracts/{contract['id']}/cancellation",
        admin,
        with_raw(body, "actual_costs.0.amount", amount),
    )
    entry = problem(response, 422, "validation_error")["errors"][0]
    assert entry["field"] == "actual_costs.0.amount"
    assert (await read(client, contract["id"], admin))["status"] == "accepted"
    assert await charge_count(session, contract["id"]) == 0


# --- ad-hoc charges --------------------------------------------------------------------


async def _charge(
    client: httpx.AsyncClient, headers: Headers, contract_id: str, **body: Any
) -> httpx.Response:
    base = {"kind": "work", "description": "現地作業", "amount": 10_000, "month": "2026-12"}
    return await client.post(
        f"/v1/contracts/{contract_id}/charges", json={**base, **body}, headers=headers
    )


@pytest.mark.parametrize("month", MONTHS_OUT_OF_WINDOW)
async def test_issue_9_s4_an_ad_hoc_charge_month_outside_the_window_is_refused(
    client: httpx.AsyncClient, admin: Headers, session: AsyncSession, month: str
) -> None:
    contract = await example_b(client, admin)
    before = await charge_count(session, contract["id"])
    out_of_range(await _charge(client, admin, contract["id"], month=month), "month")
    assert await charge_count(session, contract["id"]) == before


@pytest.mark.parametrize("amount", BAD_AMOUNTS)
async def test_issue_9_s4_an_ad_hoc_charge_is_whole_positive_yen_up_to_10_12(
    client: httpx.AsyncClient, admin: Headers, session: AsyncSession, amount: str
) -> None:
    contract = await example_b(client, admin)
    before = await charge_count(session, contract["id"])
    body = {"kind": "work", "description": "現地作業", "amount": 1, "month": "2026-12"}
    response = await post_raw(
        client, f"/v1/contracts/{contract['id']}/charges", admin, with_raw(body, "amount", amount)
    )
    assert problem(response, 422, "validation_error")["errors"][0]["field"] == "amount"
    assert await charge_count(session, contract["id"]) == before


async def test_issue_9_s4_an_ad_hoc_charge_of_10_12_yen_is_accepted(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    contract = await example_b(client, admin)
    response = await _charge(client, admin, contract["id"], amount=10**12)
    assert response.status_code == 201, response.text
    assert [c["amount"] for c in response.json()] == [10**12]


# --- every other dated contract request ---------------------------------------------------

# (path below /v1/contracts/{id}, body, the field sent out of the window). Validation runs
# before the contract is looked at, so one active contract serves every row.
DATED_REQUESTS: list[tuple[str, Body, str]] = [
    ("/reject", {"reason": "payment_risk", "notice": "x"}, "rejected_on"),
    ("/withdraw", {}, "withdrawn_on"),
    ("/onboarding/start", {}, "started_on"),
    ("/onboarding/milestones/explanation", {}, "done_on"),
    ("/onboarding/inspections", {"result": "nonconforming", "defects": ["x"]}, "inspected_on"),
    (
        "/onboarding/inspections",
        {"result": "accepted", "inspected_on": "2026-06-15"},
        "certificate_on",
    ),
    ("/onboarding/complete", {}, "completed_on"),
    ("/options", {"option": "soc"}, "effective_on"),
    ("/option-removals", {"option": "soc", "effective_on": "2027-04-01"}, "notice_on"),
    ("/option-removals", {"option": "soc", "notice_on": "2026-11-24"}, "effective_on"),
    ("/cancellation", {}, "cancelled_on"),
    ("/suspensions", {"reason": "maintenance"}, "starts_on"),
    ("/suspensions", {"reason": "maintenance", "starts_on": "2026-12-01"}, "ends_on"),
]
PLAN_CHANGE = {
    "plan": "complete-advantage",
    "notice_on": "2026-11-24",
    "effective_on": "2027-05-20",
    "received_on": "2026-11-24",
}


@pytest.mark.parametrize(
    ("path", "body", "field"),
    DATED_REQUESTS + [("/plan-change", PLAN_CHANGE, f) for f in [*PLAN_CHANGE][1:]],
)
@pytest.mark.parametrize("day", ["1999-12-31", "9999-12-31"])
async def test_issue_9_s4_every_dated_contract_request_refuses_a_date_outside_the_window(
    client: httpx.AsyncClient,
    admin: Headers,
    session: AsyncSession,
    path: str,
    body: Body,
    field: str,
    day: str,
) -> None:
    contract = await example_a(client, admin)
    version = await version_of(session, contract["id"])
    response = await client.post(
        f"/v1/contracts/{contract['id']}{path}", json={**body, field: day}, headers=admin
    )
    out_of_range(response, field)
    assert await version_of(session, contract["id"]) == version
    assert await _contracts(session) == 1


async def test_issue_9_s4_plan_change_installation_outside_the_window_is_refused(
    client: httpx.AsyncClient, admin: Headers, session: AsyncSession
) -> None:
    contract = await example_a(client, admin)
    response = await client.post(
        f"/v1/contracts/{contract['id']}/plan-change",
        json={**PLAN_CHANGE, "planned_installation_on": "9999-12-31"},
        headers=admin,
    )
    out_of_range(response, "planned_installation_on")
    assert await _contracts(session) == 1


async def test_issue_9_s4_the_first_allowed_day_passes_the_window(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    """2000-01-01 is in the window; what refuses it here is the business rule (it is
    before the receipt), not the window."""
    customer = await create_customer(client, admin)
    contract = await accepted(client, admin, customer["id"])
    response = await client.post(
        f"/v1/contracts/{contract['id']}/onboarding/start",
        json={"started_on": "2000-01-01"},
        headers=admin,
    )
    assert response.status_code == 422, response.text
    assert response.json()["code"] != "validation_error"
    started = await post_ok(
        client,
        f"/v1/contracts/{contract['id']}/onboarding/start",
        admin,
        {"started_on": "2026-05-20"},
    )
    assert started["status"] == "onboarding"


async def test_issue_9_s4_a_plan_change_whose_new_installation_falls_outside_is_a_422(
    client: httpx.AsyncClient, admin: Headers, session: AsyncSession
) -> None:
    """Ending on the last allowed day, the new contract's default installation (the day
    after) is outside the window: a 422 naming the field to give, not a 500; and an
    installation before the new receipt is refused the same way. Nothing is stored."""
    contract = await example_a(client, admin)
    version = await version_of(session, contract["id"])
    for extra in (
        {"effective_on": LAST_ALLOWED},
        {"planned_installation_on": "2026-11-01"},
    ):
        response = await client.post(
            f"/v1/contracts/{contract['id']}/plan-change",
            json={**PLAN_CHANGE, **extra},
            headers=admin,
        )
        body = problem(response, 422, "validation_error")
        assert [e["field"] for e in body["errors"]] == ["planned_installation_on"], body
    assert await version_of(session, contract["id"]) == version
    assert await _contracts(session) == 1
