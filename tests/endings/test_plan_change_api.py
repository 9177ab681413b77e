"""POST /v1/contracts/{id}/plan-change (R-LC-8, Art. 12): terminate and contract anew in
one request: the old contract ends with reason plan_change (notice rule, early-termination
charge), a new application is filed and the two are linked; all or nothing.
"""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.contracts.changes_support import (
    B_MONTHLY,
    Body,
    Headers,
    event_types,
    example_b,
    ledger,
    problem,
    read,
)
from tests.contracts.steps import accepted, event_count
from tests.support.factories import create_customer


def _body(**overrides: Any) -> Body:
    return {
        "plan": "complete-essential",
        "notice_on": "2026-09-10",
        "effective_on": "2026-12-10",
        "received_on": "2026-11-20",
        **overrides,
    }


async def _change_plan(
    client: httpx.AsyncClient, headers: Headers, contract_id: str, **overrides: Any
) -> httpx.Response:
    return await client.post(
        f"/v1/contracts/{contract_id}/plan-change", json=_body(**overrides), headers=headers
    )


async def _contracts_of(client: httpx.AsyncClient, headers: Headers, customer_id: str) -> list[str]:
    response = await client.get(
        "/v1/contracts", params={"customer_id": customer_id}, headers=headers
    )
    assert response.status_code == 200, response.text
    return [c["id"] for c in response.json()["items"]]


async def test_r_lc_8_one_request_terminates_the_old_contract_and_files_a_new_one(
    client: httpx.AsyncClient, admin: Headers, session: AsyncSession
) -> None:
    old = await example_b(client, admin)
    response = await _change_plan(client, admin, old["id"])
    assert response.status_code == 200, response.text
    terminated, application = response.json()["terminated"], response.json()["application"]
    assert terminated["id"] == old["id"]
    assert terminated["status"] == "active"  # until 2026-12-10 has passed
    assert terminated["termination"]["reason"] == "plan_change"
    assert terminated["termination"]["effective_on"] == "2026-12-10"
    assert terminated["termination"]["notice_on"] == "2026-09-10"
    assert terminated["successor_id"] == application["id"]
    assert application["predecessor_id"] == old["id"]
    assert application["status"] == "applied"
    assert application["customer_id"] == old["customer_id"]
    assert application["plan"] == "complete-essential"
    assert application["license_ids"] == 120
    assert application["options"] == {"soc": True, "reserved_ip": True, "ad_integration": False}
    assert application["received_on"] == "2026-11-20"
    assert application["onboarding"]["planned_installation_on"] == "2026-12-11"
    assert application["onboarding"]["kind"] == "standard"
    # The old contract bears the early-termination charge (R-CHG-5): January to May 2027.
    charges = await ledger(client, old, admin)
    assert [(c["item"], c["amount"], c["taxable"], c["month"]) for c in charges] == [
        ("early-termination", 5 * B_MONTHLY, False, "2026-12")
    ]
    assert await ledger(client, application["id"], admin) == []
    assert (await event_types(session, old["id"]))[-1] == "contract.termination_scheduled"
    assert await event_types(session, application["id"]) == ["contract.applied"]
    # Both links are stored.
    assert (await read(client, old["id"], admin))["successor_id"] == application["id"]
    assert (await read(client, application["id"], admin))["predecessor_id"] == old["id"]


async def test_r_lc_8_the_new_application_may_change_the_licences(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    old = await example_b(client, admin)
    response = await _change_plan(
        client, admin, old["id"], license_ids=200, onboarding_kind="simple"
    )
    assert response.status_code == 200, response.text
    application = response.json()["application"]
    assert (application["license_ids"], application["onboarding"]["kind"]) == (200, "simple")


async def test_r_term_3_a_plan_change_follows_the_notice_rule(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    old = await example_b(client, admin)
    body = problem(
        await _change_plan(client, admin, old["id"], notice_on="2026-09-11"),
        422,
        "notice_too_late",
    )
    assert body["earliest_effective_on"] == "2026-12-11"
    assert await _contracts_of(client, admin, old["customer_id"]) == [old["id"]]
    assert (await read(client, old["id"], admin))["termination"] is None


async def test_r_lc_8_a_failure_in_the_new_application_leaves_the_old_contract_untouched(
    client: httpx.AsyncClient, admin: Headers, session: AsyncSession
) -> None:
    """The termination half passes, the application half fails (received in the future):
    nothing of either stays."""
    old = await example_b(client, admin)
    events_before = await event_count(session, old["id"])
    body = problem(
        await _change_plan(client, admin, old["id"], received_on="2026-11-25"),
        422,
        "received_in_future",
    )
    assert body["field"] == "received_on"
    after = await read(client, old["id"], admin)
    assert after["termination"] is None
    assert after["successor_id"] is None
    assert after["status"] == "active"
    assert await ledger(client, old, admin) == []
    assert await event_count(session, old["id"]) == events_before
    assert await _contracts_of(client, admin, old["customer_id"]) == [old["id"]]
    # The same request with a valid receipt date then succeeds.
    ok = await _change_plan(client, admin, old["id"])
    assert ok.status_code == 200, ok.text


async def test_r_lc_8_the_same_plan_is_no_plan_change(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    old = await example_b(client, admin)
    problem(
        await _change_plan(client, admin, old["id"], plan="complete-advantage"),
        422,
        "same_plan",
    )
    assert await ledger(client, old, admin) == []


async def test_r_lc_10_only_an_active_contract_changes_plan(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    customer = await create_customer(client, admin)
    contract = await accepted(client, admin, customer["id"])
    body = problem(await _change_plan(client, admin, contract["id"]), 409, "invalid_transition")
    assert body["current_status"] == "accepted"


async def test_a_plan_change_while_a_termination_is_scheduled_is_a_conflict(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    old = await example_b(client, admin)
    first = await _change_plan(client, admin, old["id"])
    assert first.status_code == 200, first.text
    problem(
        await _change_plan(client, admin, old["id"], plan="foundation-advantage"),
        409,
        "termination_already_scheduled",
    )
    assert len(await _contracts_of(client, admin, old["customer_id"])) == 2
    assert len(await ledger(client, old, admin)) == 1
