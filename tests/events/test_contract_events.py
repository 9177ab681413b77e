"""issue 12 §2: every change of a contract records its event in the same transaction,
and the event's data is the contract as GET /v1/contracts/{id} returns it at that moment."""

from __future__ import annotations

from datetime import date

import httpx

from app.core.clock import FixedClock
from app.endings.rolling import roll
from tests.contracts.changes_support import B_FIELDS, example_a, example_b
from tests.contracts.steps import at
from tests.events.support import Headers, get, latest_is_get, only, stored, total, types_of
from tests.support.databases import BoundDatabase
from tests.support.factories import SIMPLE_MILESTONES, application_body, create_customer


async def _post(
    client: httpx.AsyncClient, path: str, headers: Headers, body: object = None
) -> httpx.Response:
    response = await client.post(path, json=body, headers=headers)
    assert response.status_code in (200, 201), response.text
    return response


async def test_each_step_from_application_to_activation_records_the_contract_as_read(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase
) -> None:
    customer = await create_customer(client, admin)
    applied = await _post(client, "/v1/contracts", admin, application_body(customer["id"]))
    path = f"/v1/contracts/{applied.json()['id']}"
    event = await latest_is_get(client, database, admin, type="contract.applied", path=path)
    assert event.data["status"] == "applied"
    assert (event.customer_id, event.resource_type) == (customer["id"], "contract")

    steps: list[tuple[str, object, str]] = [
        ("accept", {"out_of_order_reason": "test"}, "contract.accepted"),
        ("onboarding/start", {"started_on": "2026-05-20"}, "contract.onboarding_started"),
    ]
    steps += [
        (f"onboarding/milestones/{key}", {"done_on": "2026-05-20"}, "contract.milestone_done")
        for key in SIMPLE_MILESTONES
    ]
    steps += [
        (
            "onboarding/inspections",
            {"inspected_on": "2026-06-15", "result": "accepted", "certificate_on": "2026-06-15"},
            "contract.inspected",
        ),
        ("onboarding/complete", {"completed_on": "2026-06-15"}, "contract.activated"),
    ]
    for step, body, type_ in steps:
        await _post(client, f"{path}/{step}", admin, body)
        # Read right after the change: the event shows what the GET shows now.
        await latest_is_get(client, database, admin, type=type_, path=path)
    assert (await get(client, path, admin))["status"] == "active"
    assert len(await stored(database, applied.json()["id"], "contract.milestone_done")) == len(
        SIMPLE_MILESTONES
    )


async def test_rejected_and_withdrawn_applications_record_their_events(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase
) -> None:
    customer = await create_customer(client, admin)
    for move, body, type_ in (
        (
            "reject",
            {"reason": "payment_risk", "notice": "与信審査の結果、お受けできません。"},
            "contract.rejected",
        ),
        ("withdraw", {}, "contract.withdrawn"),
    ):
        applied = await _post(client, "/v1/contracts", admin, application_body(customer["id"]))
        path = f"/v1/contracts/{applied.json()['id']}"
        await _post(client, f"{path}/{move}", admin, body)
        event = await latest_is_get(client, database, admin, type=type_, path=path)
        assert event.data["status"] == move.replace("reject", "rejected").replace(
            "withdraw", "withdrawn"
        )


async def test_a_refused_move_records_no_event(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase
) -> None:
    customer = await create_customer(client, admin)
    applied = await _post(client, "/v1/contracts", admin, application_body(customer["id"]))
    before = await total(database)
    # Not accepted yet: starting the onboarding is a 409, and nothing is recorded.
    response = await client.post(
        f"/v1/contracts/{applied.json()['id']}/onboarding/start",
        json={"started_on": "2026-05-20"},
        headers=admin,
    )
    assert response.status_code == 409, response.text
    invalid = await client.post(
        "/v1/contracts", json=application_body("cus_missing"), headers=admin
    )
    assert invalid.status_code == 422, invalid.text
    assert await total(database) == before


async def test_licence_changes_record_the_contract_and_the_charge_they_cause(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase
) -> None:
    contract = await example_b(client, admin)
    path = f"/v1/contracts/{contract['id']}"
    await _post(
        client,
        f"{path}/license-changes",
        admin,
        {"license_ids": 60, "effective_on": "2026-12-10", "notice_on": "2026-09-10"},
    )
    await latest_is_get(client, database, admin, type="contract.license_changed", path=path)
    # R-CHG-5: the early-termination charge of the decrease, as the ledger lists it.
    ledger = (await get(client, f"{path}/charges?limit=200", admin))["items"]
    (early,) = [c for c in ledger if c["item"] == "early-termination"]
    event = await only(database, early["id"], "charge.recorded")
    assert event.data == early
    assert (event.customer_id, event.resource_type) == (contract["customer_id"], "charge")


async def test_option_additions_and_removals_record_their_events(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase
) -> None:
    a = await example_a(client, admin)
    path = f"/v1/contracts/{a['id']}"
    await _post(
        client, f"{path}/options", admin, {"option": "reserved_ip", "effective_on": "2026-12-01"}
    )
    await latest_is_get(client, database, admin, type="contract.option_added", path=path)
    b = await example_b(client, admin)
    path = f"/v1/contracts/{b['id']}"
    await _post(
        client,
        f"{path}/option-removals",
        admin,
        {"option": "reserved_ip", "effective_on": "2026-12-10", "notice_on": "2026-09-10"},
    )
    await latest_is_get(client, database, admin, type="contract.option_removed", path=path)


async def test_a_suspension_records_the_contract(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase
) -> None:
    contract = await example_b(client, admin)
    path = f"/v1/contracts/{contract['id']}"
    await _post(
        client,
        f"{path}/suspensions",
        admin,
        {"starts_on": "2026-12-01", "ends_on": "2026-12-15", "reason": "breach"},
    )
    await latest_is_get(client, database, admin, type="contract.suspended", path=path)


async def test_a_termination_is_scheduled_then_recorded_by_the_daily_roll(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase, clock: FixedClock
) -> None:
    contract = await example_b(client, admin)
    path = f"/v1/contracts/{contract['id']}"
    await _post(
        client,
        f"{path}/terminations",
        admin,
        {"reason": "non_renewal", "effective_on": "2027-05-20", "notice_on": "2026-11-24"},
    )
    event = await latest_is_get(
        client, database, admin, type="contract.termination_scheduled", path=path
    )
    assert event.data["termination"]["effective_on"] == "2027-05-20"
    at(clock, date(2027, 5, 21))
    await roll(database, date(2027, 5, 21), clock)
    event = await latest_is_get(client, database, admin, type="contract.terminated", path=path)
    assert event.data["status"] == "terminated"
    assert event.request_id is None  # the roll is no request
    # The roll records each termination once.
    await roll(database, date(2027, 5, 22), clock)
    assert (await types_of(database, contract["id"])).count("contract.terminated") == 1


async def test_a_termination_already_in_effect_records_both_events(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase
) -> None:
    customer = await create_customer(client, admin)
    applied = await _post(
        client, "/v1/contracts", admin, application_body(customer["id"], **B_FIELDS)
    )
    path = f"/v1/contracts/{applied.json()['id']}"
    await _post(client, f"{path}/accept", admin, {"out_of_order_reason": "test"})
    # B accepted, planned installation 2026-06-01, never started: past the onboarding
    # deadline the termination takes effect at once (R-TERM-4).
    await _post(
        client,
        f"{path}/terminations",
        admin,
        {"reason": "onboarding_deadline_exceeded", "effective_on": "2026-11-24"},
    )
    types = await types_of(database, applied.json()["id"])
    assert types[-2:] == ["contract.termination_scheduled", "contract.terminated"]
    await latest_is_get(client, database, admin, type="contract.terminated", path=path)


async def test_the_daily_roll_records_each_renewal_once(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase, clock: FixedClock
) -> None:
    contract = await example_b(client, admin)  # first term ends 2027-05-20
    path = f"/v1/contracts/{contract['id']}"
    at(clock, date(2027, 5, 21))
    await roll(database, date(2027, 5, 21), clock)
    event = await latest_is_get(client, database, admin, type="contract.renewed", path=path)
    assert event.data["term"]["renewals"] == 1
    await roll(database, date(2027, 5, 21), clock)
    assert len(await stored(database, contract["id"], "contract.renewed")) == 1


async def test_a_plan_change_records_the_old_contract_linked_to_the_new_one(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase
) -> None:
    old = await example_b(client, admin)
    response = await _post(
        client,
        f"/v1/contracts/{old['id']}/plan-change",
        admin,
        {
            "plan": "complete-essential",
            "notice_on": "2026-09-10",
            "effective_on": "2026-12-10",
            "received_on": "2026-11-20",
        },
    )
    new_id = response.json()["application"]["id"]
    types = await types_of(database, old["id"])
    assert types[-2:] == ["contract.termination_scheduled", "contract.plan_changed"]
    event = await latest_is_get(
        client, database, admin, type="contract.plan_changed", path=f"/v1/contracts/{old['id']}"
    )
    assert event.data["successor_id"] == new_id
    # The new application's own event already names its predecessor.
    applied = await only(database, new_id, "contract.applied")
    assert applied.data == await get(client, f"/v1/contracts/{new_id}", admin)
    assert applied.data["predecessor_id"] == old["id"]


async def test_a_plan_change_that_fails_half_way_records_nothing(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase
) -> None:
    old = await example_b(client, admin)
    before = await total(database)
    # The termination half passes; the new application is refused (received in the
    # future): the whole request rolls back, its events with it.
    response = await client.post(
        f"/v1/contracts/{old['id']}/plan-change",
        json={
            "plan": "complete-essential",
            "notice_on": "2026-09-10",
            "effective_on": "2026-12-10",
            "received_on": "2026-11-25",
        },
        headers=admin,
    )
    assert response.status_code == 422, response.text
    assert await total(database) == before


async def test_a_cancellation_records_the_contract_and_its_invoice(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase
) -> None:
    customer = await create_customer(client, admin)
    applied = await _post(
        client, "/v1/contracts", admin, application_body(customer["id"], **B_FIELDS)
    )
    path = f"/v1/contracts/{applied.json()['id']}"
    await _post(client, f"{path}/accept", admin, {"out_of_order_reason": "test"})
    response = await _post(
        client,
        f"{path}/cancellation",
        admin,
        {
            "cancelled_on": "2026-05-10",
            "actual_costs": [{"description": "調達済みソフトウェア", "amount": 200_000}],
        },
    )
    await latest_is_get(client, database, admin, type="contract.cancelled", path=path)
    invoice_id = response.json()["invoice"]["id"]
    issued = await only(database, invoice_id, "invoice.issued")
    assert issued.data == await get(client, f"/v1/invoices/{invoice_id}", admin)
    # Its cancellation charges were recorded to the ledger, each with its event.
    ledger = (await get(client, f"{path}/charges?limit=200", admin))["items"]
    assert len(ledger) == 3
    for charge in ledger:
        recorded = await only(database, charge["id"], "charge.recorded")
        # The ledger as recorded: unbilled then, billed by the invoice now.
        assert recorded.data == {**charge, "invoice_id": None}
