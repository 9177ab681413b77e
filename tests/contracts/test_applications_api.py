"""Applications and the decision on them (R-LC-1 … R-LC-4), the state machine (R-LC-10),
the history, the audit log (R-PTN-2) and who may do what (API.md "Roles", R-PTN-3)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.contracts.states import ALLOWED, Move, Status
from app.core.clock import TOKYO, FixedClock
from tests.conftest import KeyFactory
from tests.contracts.steps import (
    Body,
    Headers,
    accepted,
    at,
    audit_records,
    event_count,
    events,
    get_contract,
    key_id,
    onboarding,
    version_of,
)
from tests.support.factories import (
    ADMINISTRATORS,
    activate,
    application_body,
    apply,
    create_customer,
    post_ok,
)

REJECTION_REASONS = [
    "false_statement",
    "technically_infeasible",
    "payment_risk",
    "business_impediment",
    "antisocial_forces",
]


@pytest.fixture
async def customer(client: httpx.AsyncClient, admin: Headers) -> Body:
    return await create_customer(client, admin)


def _fields(problem: Body) -> list[str]:
    return [e["field"] for e in problem["errors"]]


async def _post(
    client: httpx.AsyncClient, path: str, headers: Headers, body: Any = None
) -> httpx.Response:
    return await client.post(path, json=body, headers=headers)


# ---- R-LC-1: the application -------------------------------------------------------------


async def test_an_application_is_created_applied_with_what_was_sent(
    client: httpx.AsyncClient, admin: Headers, customer: Body
) -> None:
    """R-LC-1: customer, plan, IDs, options, kind, received_on, planned date, two admins."""
    body = application_body(customer["id"])
    response = await client.post("/v1/contracts", json=body, headers=admin)
    assert response.status_code == 201, response.text
    contract = response.json()
    assert response.headers["location"] == f"/v1/contracts/{contract['id']}"
    assert contract["id"].startswith("ctr_")
    assert contract["status"] == "applied"
    assert contract["customer_id"] == customer["id"]
    assert contract["plan"] == "foundation-essential"
    assert contract["license_ids"] == 50
    assert contract["options"] == {"soc": False, "reserved_ip": False, "ad_integration": False}
    assert contract["received_on"] == "2026-05-01"
    assert contract["accepted_on"] is None
    assert contract["administrators"] == ADMINISTRATORS
    assert contract["onboarding"]["kind"] == "simple"
    assert contract["onboarding"]["planned_installation_on"] == "2026-06-01"
    assert contract["service_start_on"] is None
    assert contract["term"] is None
    assert await get_contract(client, contract["id"], admin) == contract


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"administrators": ADMINISTRATORS[:1]}, "administrators"),
        ({"administrators": [*ADMINISTRATORS, ADMINISTRATORS[0]]}, "administrators"),
        ({"administrators": []}, "administrators"),
        (
            {
                "administrators": [
                    {**ADMINISTRATORS[0], "email": "yamada-at-example"},
                    ADMINISTRATORS[1],
                ]
            },
            "administrators.0.email",
        ),
        (
            {"administrators": [ADMINISTRATORS[0], {"name": "佐藤 花子", "email": "s@example.jp"}]},
            "administrators.1.phone",
        ),
        ({"license_ids": 0}, "license_ids"),
        ({"license_ids": 1_000_001}, "license_ids"),
        ({"license_ids": 12.5}, "license_ids"),
        ({"plan": "foundation-premium"}, "plan"),
        ({"onboarding_kind": "deluxe"}, "onboarding_kind"),
        ({"options": {"soc": True, "gold_support": True}}, "options.gold_support"),
        ({"received_on": "2026-02-30"}, "received_on"),
        ({"discount": 10}, "discount"),
    ],
    ids=[
        "one-administrator",
        "three-administrators",
        "no-administrators",
        "bad-administrator-email",
        "administrator-without-phone",
        "zero-ids",
        "too-many-ids",
        "fractional-ids",
        "unknown-plan",
        "unknown-onboarding-kind",
        "unknown-option",
        "impossible-date",
        "unknown-field",
    ],
)
async def test_an_invalid_application_is_422_naming_the_field(
    client: httpx.AsyncClient,
    admin: Headers,
    customer: Body,
    overrides: dict[str, Any],
    field: str,
) -> None:
    """R-LC-1 (exactly two administrators, Art. 7.2), R-CAT-1, R-CAT-2."""
    body = application_body(customer["id"], **overrides)
    response = await client.post("/v1/contracts", json=body, headers=admin)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "validation_error"
    assert _fields(problem) == [field]
    if field == "license_ids":
        assert problem["errors"][0]["rule"] == "R-CAT-2"
    listed = await client.get("/v1/contracts", headers=admin)
    assert listed.json()["items"] == []


@pytest.mark.parametrize("license_ids", [1, 1_000_000])
async def test_the_licence_bounds_themselves_are_accepted(
    client: httpx.AsyncClient, admin: Headers, customer: Body, license_ids: int
) -> None:
    """R-CAT-2: 1 to 1,000,000 IDs."""
    contract = await apply(client, admin, customer["id"], license_ids=license_ids)
    assert contract["license_ids"] == license_ids


async def test_an_application_for_an_unknown_customer_is_422_customer_not_found(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    response = await client.post(
        "/v1/contracts", json=application_body("cus_nobody"), headers=admin
    )
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "customer_not_found"
    assert problem["rule"] == "R-LC-1"
    assert problem["field"] == "customer_id"


async def test_received_on_in_the_future_is_422_with_the_latest_allowed_day(
    client: httpx.AsyncClient, admin: Headers, customer: Body
) -> None:
    """R-LC-1: received_on is the day the carrier received the form; today is allowed."""
    response = await client.post(
        "/v1/contracts",
        json=application_body(
            customer["id"], received_on="2026-11-25", planned_installation_on="2026-12-01"
        ),
        headers=admin,
    )
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "received_in_future"
    assert problem["latest_allowed"] == "2026-11-24"
    today = await apply(
        client,
        admin,
        customer["id"],
        received_on="2026-11-24",
        planned_installation_on="2026-11-24",
    )
    assert today["received_on"] == "2026-11-24"


async def test_today_for_received_on_is_the_tokyo_date(
    client: httpx.AsyncClient, admin: Headers, customer: Body, clock: FixedClock
) -> None:
    """00:30 in Tokyo on 2026-11-25 is still 2026-11-24 in UTC: Tokyo decides."""
    at(clock, date(2026, 11, 25), hour=0, minute=30)
    contract = await apply(
        client,
        admin,
        customer["id"],
        received_on="2026-11-25",
        planned_installation_on="2026-12-01",
    )
    assert contract["received_on"] == "2026-11-25"
    at(clock, date(2026, 11, 24), hour=23, minute=30)
    response = await client.post(
        "/v1/contracts",
        json=application_body(
            customer["id"], received_on="2026-11-25", planned_installation_on="2026-12-01"
        ),
        headers=admin,
    )
    assert response.status_code == 422
    assert response.json()["code"] == "received_in_future"


async def test_a_planned_installation_before_receipt_is_422(
    client: httpx.AsyncClient, admin: Headers, customer: Body
) -> None:
    body = application_body(
        customer["id"], received_on="2026-05-01", planned_installation_on="2026-04-30"
    )
    response = await client.post("/v1/contracts", json=body, headers=admin)
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "validation_error"
    assert _fields(problem) == ["planned_installation_on"]
    assert "received_on" in problem["errors"][0]["message"]
    same_day = await apply(
        client,
        admin,
        customer["id"],
        received_on="2026-05-01",
        planned_installation_on="2026-05-01",
    )
    assert same_day["onboarding"]["planned_installation_on"] == "2026-05-01"


# ---- R-LC-2: acceptance in the order received ----------------------------------------------


async def test_accepting_a_later_application_while_an_earlier_one_waits_is_409(
    client: httpx.AsyncClient, admin: Headers, make_key: KeyFactory, session: AsyncSession
) -> None:
    """R-LC-2 (Art. 8.1): B arrived first but was received a day after A; A goes first."""
    first_customer = await create_customer(client, admin, name="B Corp")
    second_customer = await create_customer(client, admin, name="A Corp")
    b = await apply(
        client,
        admin,
        first_customer["id"],
        received_on="2026-11-02",
        planned_installation_on="2026-12-01",
    )
    a = await apply(
        client,
        admin,
        second_customer["id"],
        received_on="2026-11-01",
        planned_installation_on="2026-12-01",
    )
    operator = await make_key("operator")
    version = await version_of(session, b["id"])

    response = await _post(client, f"/v1/contracts/{b['id']}/accept", operator, {})
    assert response.status_code == 409
    problem = response.json()
    assert problem["code"] == "earlier_application_pending"
    assert problem["rule"] == "R-LC-2"
    assert problem["earliest_pending_id"] == a["id"]
    assert problem["earliest_pending_received_on"] == "2026-11-01"
    assert a["id"] in problem["detail"]
    assert (await get_contract(client, b["id"], admin))["status"] == "applied"
    assert await version_of(session, b["id"]) == version
    assert await event_count(session, b["id"]) == 1

    # Without a body at all it is the same refusal.
    bare = await client.post(f"/v1/contracts/{b['id']}/accept", headers=operator)
    assert bare.status_code == 409

    # In order, both go through without a reason.
    first = await post_ok(client, f"/v1/contracts/{a['id']}/accept", operator)
    assert first["status"] == "accepted"
    assert first["out_of_order_reason"] is None
    second = await post_ok(client, f"/v1/contracts/{b['id']}/accept", operator, {})
    assert second["status"] == "accepted"


async def test_an_out_of_order_reason_lets_it_through_and_is_kept_everywhere(
    client: httpx.AsyncClient, admin: Headers, customer: Body, session: AsyncSession
) -> None:
    """R-LC-2: the Art. 8.1 proviso, kept on the contract, its event and the audit log."""
    a = await apply(
        client,
        admin,
        customer["id"],
        received_on="2026-11-01",
        planned_installation_on="2026-12-01",
    )
    b = await apply(
        client,
        admin,
        customer["id"],
        received_on="2026-11-02",
        planned_installation_on="2026-12-01",
    )
    reason = "Urgent: customer's existing service ends 2026-11-30 (部長承認済み)"
    response = await _post(
        client, f"/v1/contracts/{b['id']}/accept", admin, {"out_of_order_reason": reason}
    )
    assert response.status_code == 200, response.text
    contract = response.json()
    assert contract["status"] == "accepted"
    assert contract["out_of_order_reason"] == reason
    assert (await get_contract(client, b["id"], admin))["out_of_order_reason"] == reason
    latest = (await events(client, b["id"], admin))[0]
    assert latest["type"] == "contract.accepted"
    assert latest["payload"]["out_of_order_reason"] == reason
    record = (await audit_records(session, b["id"]))[-1]
    assert record.action == "contract.accepted"
    assert record.after is not None
    assert record.before is not None
    assert record.after["out_of_order_reason"] == reason
    assert record.before["status"] == "applied"
    assert record.after["status"] == "accepted"
    # A is still waiting, untouched.
    assert (await get_contract(client, a["id"], admin))["status"] == "applied"


async def test_a_blank_out_of_order_reason_is_no_reason(
    client: httpx.AsyncClient, admin: Headers, customer: Body
) -> None:
    await apply(
        client,
        admin,
        customer["id"],
        received_on="2026-11-01",
        planned_installation_on="2026-12-01",
    )
    b = await apply(
        client,
        admin,
        customer["id"],
        received_on="2026-11-02",
        planned_installation_on="2026-12-01",
    )
    response = await _post(
        client, f"/v1/contracts/{b['id']}/accept", admin, {"out_of_order_reason": "   "}
    )
    assert response.status_code == 422
    assert _fields(response.json()) == ["out_of_order_reason"]


async def test_on_the_same_received_on_arrival_order_decides(
    client: httpx.AsyncClient, admin: Headers, customer: Body
) -> None:
    """R-LC-2: received_on, then arrival order."""
    first = await apply(
        client,
        admin,
        customer["id"],
        received_on="2026-11-10",
        planned_installation_on="2026-12-01",
    )
    second = await apply(
        client,
        admin,
        customer["id"],
        received_on="2026-11-10",
        planned_installation_on="2026-12-01",
    )
    refused = await _post(client, f"/v1/contracts/{second['id']}/accept", admin, {})
    assert refused.status_code == 409
    assert refused.json()["earliest_pending_id"] == first["id"]
    await post_ok(client, f"/v1/contracts/{first['id']}/accept", admin, {})
    assert (await post_ok(client, f"/v1/contracts/{second['id']}/accept", admin, {}))[
        "status"
    ] == "accepted"


async def test_a_later_received_application_never_blocks_an_earlier_one(
    client: httpx.AsyncClient, admin: Headers, customer: Body
) -> None:
    later = await apply(
        client,
        admin,
        customer["id"],
        received_on="2026-11-20",
        planned_installation_on="2026-12-01",
    )
    earlier = await apply(
        client,
        admin,
        customer["id"],
        received_on="2026-11-19",
        planned_installation_on="2026-12-01",
    )
    assert (await post_ok(client, f"/v1/contracts/{earlier['id']}/accept", admin))[
        "status"
    ] == "accepted"
    assert (await get_contract(client, later["id"], admin))["status"] == "applied"


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("reject", {"reason": "payment_risk", "notice": "与信審査の結果、お受けできません。"}),
        ("withdraw", {}),
    ],
)
async def test_a_rejected_or_withdrawn_earlier_application_no_longer_blocks(
    client: httpx.AsyncClient, admin: Headers, customer: Body, action: str, body: Body
) -> None:
    """R-LC-2: only an application still ``applied`` holds the queue."""
    a = await apply(
        client,
        admin,
        customer["id"],
        received_on="2026-11-01",
        planned_installation_on="2026-12-01",
    )
    b = await apply(
        client,
        admin,
        customer["id"],
        received_on="2026-11-02",
        planned_installation_on="2026-12-01",
    )
    await post_ok(client, f"/v1/contracts/{a['id']}/{action}", admin, body)
    contract = await post_ok(client, f"/v1/contracts/{b['id']}/accept", admin, {})
    assert contract["status"] == "accepted"
    assert contract["out_of_order_reason"] is None


# ---- R-LC-3: the acceptance date is the receipt date ---------------------------------------


async def test_the_acceptance_date_is_the_receipt_date_whatever_day_it_is_decided(
    client: httpx.AsyncClient, admin: Headers, customer: Body
) -> None:
    """R-LC-3 (Art. 8.2): received 2026-05-01, decided 2026-11-24."""
    contract = await apply(client, admin, customer["id"], received_on="2026-05-01")
    decided = await post_ok(client, f"/v1/contracts/{contract['id']}/accept", admin, {})
    assert decided["accepted_on"] == "2026-05-01"
    latest = (await events(client, contract["id"], admin))[0]
    assert latest["type"] == "contract.accepted"
    assert latest["business_date"] == "2026-05-01"
    assert latest["payload"]["decided_on"] == "2026-11-24"


# ---- R-LC-4: rejection -------------------------------------------------------------------


@pytest.mark.parametrize("reason", REJECTION_REASONS)
async def test_a_rejection_with_one_of_the_five_reasons_and_a_notice_is_shown_on_the_contract(
    client: httpx.AsyncClient, admin: Headers, customer: Body, reason: str
) -> None:
    """R-LC-4 (Art. 8.3–8.4)."""
    contract = await apply(client, admin, customer["id"])
    notice = "誠に恐れ入りますが、お申込みをお受けできません。"
    response = await _post(
        client,
        f"/v1/contracts/{contract['id']}/reject",
        admin,
        {"reason": reason, "notice": notice, "rejected_on": "2026-05-08"},
    )
    assert response.status_code == 200, response.text
    rejected = response.json()
    assert rejected["status"] == "rejected"
    assert rejected["accepted_on"] is None
    assert rejected["rejection"] == {
        "rejected_on": "2026-05-08",
        "reason": reason,
        "notice": notice,
    }
    assert (await get_contract(client, contract["id"], admin))["rejection"] == rejected["rejection"]
    latest = (await events(client, contract["id"], admin))[0]
    assert latest["type"] == "contract.rejected"
    assert latest["business_date"] == "2026-05-08"
    assert latest["payload"]["reason"] == reason


async def test_a_rejection_without_a_date_is_dated_today(
    client: httpx.AsyncClient, admin: Headers, customer: Body
) -> None:
    contract = await apply(client, admin, customer["id"])
    rejected = await post_ok(
        client,
        f"/v1/contracts/{contract['id']}/reject",
        admin,
        {"reason": "technically_infeasible", "notice": "技術的に提供できません。"},
    )
    assert rejected["rejection"]["rejected_on"] == "2026-11-24"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"notice": "お受けできません。"}, "reason"),
        ({"reason": "bad_vibes", "notice": "お受けできません。"}, "reason"),
        ({"reason": "payment_risk"}, "notice"),
        ({"reason": "payment_risk", "notice": "  "}, "notice"),
    ],
    ids=["no-reason", "unknown-reason", "no-notice", "blank-notice"],
)
async def test_a_rejection_needs_a_known_reason_and_a_notice(
    client: httpx.AsyncClient,
    admin: Headers,
    customer: Body,
    session: AsyncSession,
    body: Body,
    field: str,
) -> None:
    """R-LC-4."""
    contract = await apply(client, admin, customer["id"])
    response = await _post(client, f"/v1/contracts/{contract['id']}/reject", admin, body)
    assert response.status_code == 422
    assert _fields(response.json()) == [field]
    assert (await get_contract(client, contract["id"], admin))["status"] == "applied"
    assert await event_count(session, contract["id"]) == 1


async def test_a_rejection_dated_before_receipt_is_422(
    client: httpx.AsyncClient, admin: Headers, customer: Body
) -> None:
    contract = await apply(client, admin, customer["id"], received_on="2026-05-01")
    response = await _post(
        client,
        f"/v1/contracts/{contract['id']}/reject",
        admin,
        {"reason": "payment_risk", "notice": "お受けできません。", "rejected_on": "2026-04-30"},
    )
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "date_out_of_order"
    assert problem["rule"] == "R-LC-4"
    assert problem["earliest_allowed"] == "2026-05-01"
    assert (await get_contract(client, contract["id"], admin))["status"] == "applied"


# ---- withdrawal ----------------------------------------------------------------------------


async def test_the_applicant_withdraws_before_a_decision(
    client: httpx.AsyncClient, admin: Headers, customer: Body, make_key: KeyFactory
) -> None:
    crm = await make_key("crm")
    contract = await apply(client, crm, customer["id"])
    withdrawn = await post_ok(
        client,
        f"/v1/contracts/{contract['id']}/withdraw",
        crm,
        {"withdrawn_on": "2026-05-10", "reason": "予算が下りなかったため"},
    )
    assert withdrawn["status"] == "withdrawn"
    assert withdrawn["withdrawn_on"] == "2026-05-10"
    latest = (await events(client, contract["id"], admin))[0]
    assert latest["type"] == "contract.withdrawn"
    assert latest["business_date"] == "2026-05-10"
    assert latest["payload"]["reason"] == "予算が下りなかったため"


async def test_a_withdrawal_without_a_body_is_dated_today(
    client: httpx.AsyncClient, admin: Headers, customer: Body
) -> None:
    contract = await apply(client, admin, customer["id"])
    response = await client.post(f"/v1/contracts/{contract['id']}/withdraw", headers=admin)
    assert response.status_code == 200, response.text
    assert response.json()["withdrawn_on"] == "2026-11-24"


async def test_a_withdrawal_dated_before_receipt_is_422(
    client: httpx.AsyncClient, admin: Headers, customer: Body
) -> None:
    contract = await apply(client, admin, customer["id"], received_on="2026-05-01")
    response = await _post(
        client, f"/v1/contracts/{contract['id']}/withdraw", admin, {"withdrawn_on": "2026-04-01"}
    )
    assert response.status_code == 422
    assert response.json()["code"] == "date_out_of_order"
    assert response.json()["earliest_allowed"] == "2026-05-01"


# ---- R-LC-10: every illegal transition ----------------------------------------------------

# Each action route, the move it asks for, and a body that is valid for it.
ACTIONS: dict[str, tuple[Move, Body]] = {
    "accept": (Move.ACCEPT, {"out_of_order_reason": "test"}),
    "reject": (Move.REJECT, {"reason": "payment_risk", "notice": "お受けできません。"}),
    "withdraw": (Move.WITHDRAW, {}),
    "onboarding/start": (Move.START_ONBOARDING, {"started_on": "2026-05-20"}),
    "onboarding/milestones/explanation": (Move.RECORD_MILESTONE, {"done_on": "2026-05-20"}),
    "onboarding/inspections": (
        Move.RECORD_INSPECTION,
        {"inspected_on": "2026-06-15", "result": "accepted", "certificate_on": "2026-06-15"},
    ),
    "onboarding/complete": (Move.COMPLETE_ONBOARDING, {"completed_on": "2026-06-15"}),
}

# What DOMAIN.md §2 lets each reachable state do among these routes.
PERMITTED: dict[Status, set[str]] = {
    Status.APPLIED: {"accept", "reject", "withdraw"},
    Status.ACCEPTED: {"onboarding/start"},
    Status.ONBOARDING: {
        "onboarding/milestones/explanation",
        "onboarding/inspections",
        "onboarding/complete",
    },
    Status.ACTIVE: set(),
    Status.REJECTED: set(),
    Status.WITHDRAWN: set(),
}

ILLEGAL = [
    (status, action)
    for status, permitted in PERMITTED.items()
    for action in ACTIONS
    if action not in permitted
]


async def _reach(
    client: httpx.AsyncClient, headers: Headers, customer_id: str, status: Status
) -> Body:
    """A fresh contract in ``status``."""
    if status is Status.ACCEPTED:
        return await accepted(client, headers, customer_id)
    if status is Status.ONBOARDING:
        return await onboarding(client, headers, customer_id)
    contract = await apply(client, headers, customer_id)
    base = f"/v1/contracts/{contract['id']}"
    if status is Status.ACTIVE:
        return await activate(client, headers, contract)
    if status is Status.REJECTED:
        return await post_ok(client, f"{base}/reject", headers, ACTIONS["reject"][1])
    if status is Status.WITHDRAWN:
        return await post_ok(client, f"{base}/withdraw", headers, {})
    return contract


def test_the_permitted_routes_are_the_moves_states_allow() -> None:
    """The table below is DOMAIN.md §2; states.ALLOWED must say the same for these routes."""
    route_moves = {move for move, _ in ACTIONS.values()}
    for status, permitted in PERMITTED.items():
        assert {ACTIONS[a][0] for a in permitted} == set(ALLOWED[status]) & route_moves, status


@pytest.mark.parametrize(
    ("status", "action"), ILLEGAL, ids=[f"{s.value}-{a.split('/')[-1]}" for s, a in ILLEGAL]
)
async def test_an_illegal_transition_is_409_with_the_allowed_moves_and_changes_nothing(
    client: httpx.AsyncClient,
    admin: Headers,
    customer: Body,
    session: AsyncSession,
    status: Status,
    action: str,
) -> None:
    """R-LC-10: a state that no rule allows is refused with 409 and the allowed moves."""
    contract = await _reach(client, admin, customer["id"], status)
    assert contract["status"] == status.value
    before = await get_contract(client, contract["id"], admin)
    version = await version_of(session, contract["id"])
    history = await event_count(session, contract["id"])
    audited = len(await audit_records(session, contract["id"]))

    response = await _post(
        client, f"/v1/contracts/{contract['id']}/{action}", admin, ACTIONS[action][1]
    )

    assert response.status_code == 409, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == "invalid_transition"
    assert problem["rule"] == "R-LC-10"
    assert problem["current_status"] == status.value
    assert problem["allowed"] == [m.value for m in ALLOWED[status]]
    assert await get_contract(client, contract["id"], admin) == before
    assert await version_of(session, contract["id"]) == version
    assert await event_count(session, contract["id"]) == history
    assert len(await audit_records(session, contract["id"])) == audited


# ---- R-LC-10: the history ------------------------------------------------------------------


async def test_the_history_lists_every_change_newest_first_with_who_and_the_business_date(
    client: httpx.AsyncClient,
    admin: Headers,
    customer: Body,
    make_key: KeyFactory,
    session: AsyncSession,
) -> None:
    """R-LC-10: each state change with its business date and the client that asked."""
    crm = await make_key("crm")
    operator = await make_key("operator")
    partner = await make_key("partner")
    contract = await apply(client, crm, customer["id"], received_on="2026-05-01")
    base = f"/v1/contracts/{contract['id']}"
    await post_ok(client, f"{base}/accept", operator, {})
    await post_ok(
        client,
        f"{base}/onboarding/start",
        operator,
        {"started_on": "2026-05-20", "performed_by": "partner"},
    )
    await post_ok(
        client, f"{base}/onboarding/milestones/explanation", partner, {"done_on": "2026-05-22"}
    )

    history = await events(client, contract["id"], crm)
    crm_id, operator_id, partner_id = [await key_id(session, h) for h in (crm, operator, partner)]
    assert [(e["type"], e["business_date"], e["actor_key_id"]) for e in history] == [
        ("contract.milestone_done", "2026-05-22", partner_id),
        ("contract.onboarding_started", "2026-05-20", operator_id),
        ("contract.accepted", "2026-05-01", operator_id),
        ("contract.applied", "2026-05-01", crm_id),
    ]
    assert history[0]["payload"] == {"key": "explanation"}
    assert history[-1]["payload"] == {"plan": "foundation-essential", "license_ids": 50}
    for event in history:
        assert event["id"].startswith("evt_")
        assert event["occurred_at"].startswith("2026-11-2")


async def test_the_history_pages_with_a_cursor(
    client: httpx.AsyncClient, admin: Headers, customer: Body
) -> None:
    contract = await activate(client, admin, await apply(client, admin, customer["id"]))
    everything = await events(client, contract["id"], admin)
    assert len(everything) == 10  # applied, accepted, started, 5 milestones, inspected, activated
    assert everything[0]["type"] == "contract.activated"
    assert everything[-1]["type"] == "contract.applied"
    paged: list[Body] = []
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        response = await client.get(
            f"/v1/contracts/{contract['id']}/events", params=params, headers=admin
        )
        assert response.status_code == 200
        page = response.json()
        assert len(page["items"]) <= 3
        paged += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert paged == everything


async def test_the_history_of_an_unknown_contract_is_404(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    response = await client.get("/v1/contracts/ctr_nope/events", headers=admin)
    assert response.status_code == 404
    assert response.json()["code"] == "contract_not_found"


# ---- R-PTN-2: every change leaves an audit record --------------------------------------------


async def test_every_change_leaves_an_audit_record_matching_its_event(
    client: httpx.AsyncClient, admin: Headers, customer: Body, session: AsyncSession
) -> None:
    """R-PTN-2: who, what, when, before and after, for each state change."""
    contract = await activate(client, admin, await apply(client, admin, customer["id"]))
    history = list(reversed(await events(client, contract["id"], admin)))
    records = await audit_records(session, contract["id"])
    assert [r.action for r in records] == [e["type"] for e in history]
    assert {r.resource_type for r in records} == {"contract"}
    assert {r.actor_key_id for r in records} == {await key_id(session, admin)}
    assert records[0].before is None
    statuses = [
        (r.before["status"] if r.before else None, r.after["status"] if r.after else None)
        for r in records
    ]
    assert statuses[:3] == [(None, "applied"), ("applied", "accepted"), ("accepted", "onboarding")]
    assert statuses[-1] == ("onboarding", "active")
    for earlier, later in zip(records, records[1:], strict=False):
        assert later.before == earlier.after
    assert records[-1].after is not None
    assert records[-1].after["service_start_on"] == "2026-06-15"

    for action, body, event in (
        ("reject", ACTIONS["reject"][1], "contract.rejected"),
        ("withdraw", {"reason": "changed our mind"}, "contract.withdrawn"),
    ):
        other = await apply(
            client,
            admin,
            customer["id"],
            received_on="2026-11-01",
            planned_installation_on="2026-12-01",
        )
        await post_ok(client, f"/v1/contracts/{other['id']}/{action}", admin, body)
        actions = [r.action for r in await audit_records(session, other["id"])]
        assert actions == ["contract.applied", event]


# ---- roles (API.md "Roles") --------------------------------------------------------------


def _routes(contract_id: str, customer_id: str) -> list[tuple[str, str, Any]]:
    base = f"/v1/contracts/{contract_id}"
    return [
        ("GET", "/v1/contracts", None),
        ("GET", base, None),
        ("GET", f"{base}/events", None),
        ("POST", "/v1/contracts", application_body(customer_id)),
        ("POST", f"{base}/accept", {}),
        ("POST", f"{base}/reject", ACTIONS["reject"][1]),
        ("POST", f"{base}/withdraw", {}),
        ("POST", f"{base}/onboarding/start", {"started_on": "2026-05-20"}),
        ("POST", f"{base}/onboarding/milestones/explanation", {"done_on": "2026-05-20"}),
        ("POST", f"{base}/onboarding/inspections", ACTIONS["onboarding/inspections"][1]),
        ("POST", f"{base}/onboarding/complete", {"completed_on": "2026-06-15"}),
    ]


async def _statuses(
    client: httpx.AsyncClient, routes: list[tuple[str, str, Any]], headers: Headers
) -> dict[str, int]:
    result = {}
    for method, path, body in routes:
        response = await client.request(method, path, json=body, headers=headers)
        name = f"{method} {path.split('/', 4)[-1] if path.count('/') > 3 else path}"
        result[name] = response.status_code
    return result


async def test_without_a_key_every_contract_route_is_401(
    client: httpx.AsyncClient, admin: Headers, customer: Body
) -> None:
    contract = await apply(client, admin, customer["id"])
    statuses = await _statuses(client, _routes(contract["id"], customer["id"]), {})
    assert set(statuses.values()) == {401}, statuses


async def test_crm_may_apply_withdraw_and_read_but_not_decide_or_onboard(
    client: httpx.AsyncClient,
    admin: Headers,
    customer: Body,
    make_key: KeyFactory,
    session: AsyncSession,
) -> None:
    crm = await make_key("crm")
    contract = await apply(client, crm, customer["id"])
    base = f"/v1/contracts/{contract['id']}"
    assert (await client.get("/v1/contracts", headers=crm)).status_code == 200
    assert (await client.get(base, headers=crm)).status_code == 200
    assert (await client.get(f"{base}/events", headers=crm)).status_code == 200
    version = await version_of(session, contract["id"])
    for method, path, body in _routes(contract["id"], customer["id"])[4:]:
        if path.endswith("/withdraw"):
            continue
        response = await client.request(method, path, json=body, headers=crm)
        assert response.status_code == 403, path
        assert response.json()["code"] == "forbidden"
    assert await version_of(session, contract["id"]) == version
    withdrawn = await post_ok(client, f"{base}/withdraw", crm, {})
    assert withdrawn["status"] == "withdrawn"


async def test_an_operator_may_do_everything(
    client: httpx.AsyncClient, customer: Body, make_key: KeyFactory
) -> None:
    operator = await make_key("operator")
    rejected = await apply(client, operator, customer["id"])
    withdrawn = await apply(client, operator, customer["id"])
    contract = await apply(client, operator, customer["id"])
    await post_ok(client, f"/v1/contracts/{rejected['id']}/reject", operator, ACTIONS["reject"][1])
    await post_ok(client, f"/v1/contracts/{withdrawn['id']}/withdraw", operator, {})
    active = await activate(client, operator, contract)
    assert active["status"] == "active"
    assert (await client.get("/v1/contracts", headers=operator)).status_code == 200
    assert (
        await client.get(f"/v1/contracts/{contract['id']}/events", headers=operator)
    ).status_code == 200


async def test_a_partner_may_only_record_milestones(
    client: httpx.AsyncClient, admin: Headers, customer: Body, make_key: KeyFactory
) -> None:
    """R-PTN-1 (Art. 20.3): the onboarding partner records milestones, nothing else."""
    partner = await make_key("partner")
    # Issue 13 §2: the partner records milestones of the onboarding it performs.
    contract = await apply(client, admin, customer["id"])
    await post_ok(client, f"/v1/contracts/{contract['id']}/accept", admin, {})
    await post_ok(
        client,
        f"/v1/contracts/{contract['id']}/onboarding/start",
        admin,
        {"started_on": "2026-05-20", "performed_by": "partner"},
    )
    routes = _routes(contract["id"], customer["id"])
    statuses = await _statuses(client, routes, partner)
    milestone = next(k for k in statuses if "milestones" in k)
    assert statuses.pop(milestone) == 200
    assert set(statuses.values()) == {403}, statuses


async def test_a_portal_key_reads_only_its_own_customers_contracts(
    client: httpx.AsyncClient, admin: Headers, customer: Body, make_key: KeyFactory
) -> None:
    """R-PTN-3: another customer's contract is 404; the list holds only its own."""
    other_customer = await create_customer(client, admin, name="Other K.K.")
    own = await apply(client, admin, customer["id"])
    other = await apply(client, admin, other_customer["id"])
    portal = await make_key("portal", customer_id=customer["id"])

    assert (await get_contract(client, own["id"], portal))["id"] == own["id"]
    assert (
        await client.get(f"/v1/contracts/{own['id']}/events", headers=portal)
    ).status_code == 200
    for path in (f"/v1/contracts/{other['id']}", f"/v1/contracts/{other['id']}/events"):
        hidden = await client.get(path, headers=portal)
        assert hidden.status_code == 404, path
        assert hidden.json()["code"] == "contract_not_found"

    async def listed(**params: str) -> list[str]:
        response = await client.get("/v1/contracts", params=params, headers=portal)
        assert response.status_code == 200
        return [c["id"] for c in response.json()["items"]]

    assert await listed() == [own["id"]]
    assert await listed(customer_id=customer["id"]) == [own["id"]]
    assert await listed(customer_id=other_customer["id"]) == []
    assert await listed(status="applied") == [own["id"]]


async def test_a_portal_key_may_change_nothing(
    client: httpx.AsyncClient,
    admin: Headers,
    customer: Body,
    make_key: KeyFactory,
    session: AsyncSession,
) -> None:
    portal = await make_key("portal", customer_id=customer["id"])
    contract = await apply(client, admin, customer["id"])
    version = await version_of(session, contract["id"])
    statuses = await _statuses(client, _routes(contract["id"], customer["id"])[3:], portal)
    assert set(statuses.values()) == {403}, statuses
    assert await version_of(session, contract["id"]) == version


# ---- the list ----------------------------------------------------------------------------


async def test_the_list_filters_by_customer_and_status(
    client: httpx.AsyncClient, admin: Headers, customer: Body
) -> None:
    other_customer = await create_customer(client, admin, name="Other K.K.")
    applied = await apply(
        client,
        admin,
        customer["id"],
        received_on="2026-11-01",
        planned_installation_on="2026-12-01",
    )
    taken = await accepted(client, admin, customer["id"])
    elsewhere = await apply(
        client,
        admin,
        other_customer["id"],
        received_on="2026-11-02",
        planned_installation_on="2026-12-01",
    )

    async def listed(**params: str) -> set[str]:
        response = await client.get("/v1/contracts", params=params, headers=admin)
        assert response.status_code == 200, response.text
        return {c["id"] for c in response.json()["items"]}

    assert await listed() == {applied["id"], taken["id"], elsewhere["id"]}
    assert await listed(customer_id=customer["id"]) == {applied["id"], taken["id"]}
    assert await listed(status="applied") == {applied["id"], elsewhere["id"]}
    assert await listed(status="accepted") == {taken["id"]}
    assert await listed(customer_id=other_customer["id"], status="applied") == {elsewhere["id"]}
    assert await listed(customer_id=other_customer["id"], status="accepted") == set()
    assert await listed(status="terminated") == set()
    bad = await client.get("/v1/contracts", params={"status": "sleeping"}, headers=admin)
    assert bad.status_code == 422
    assert _fields(bad.json()) == ["status"]


async def test_the_list_pages_with_a_cursor(
    client: httpx.AsyncClient, admin: Headers, customer: Body
) -> None:
    created = {(await apply(client, admin, customer["id"]))["id"] for _ in range(3)}
    first = (await client.get("/v1/contracts", params={"limit": 2}, headers=admin)).json()
    assert len(first["items"]) == 2
    assert first["next_cursor"] is not None
    second = (
        await client.get(
            "/v1/contracts", params={"limit": 2, "cursor": first["next_cursor"]}, headers=admin
        )
    ).json()
    assert second["next_cursor"] is None
    ids = [c["id"] for c in first["items"] + second["items"]]
    assert set(ids) == created
    assert ids == sorted(ids, reverse=True)


async def test_an_unknown_contract_is_404(client: httpx.AsyncClient, admin: Headers) -> None:
    response = await client.get("/v1/contracts/ctr_nope", headers=admin)
    assert response.status_code == 404
    assert response.json()["code"] == "contract_not_found"
    accept = await client.post("/v1/contracts/ctr_nope/accept", json={}, headers=admin)
    assert accept.status_code == 404


async def test_contract_and_event_timestamps_carry_an_offset_on_every_database(
    client: httpx.AsyncClient, admin: Headers, customer: Body
) -> None:
    """API.md: timestamps are RFC 3339 with offset; the instant is the clock's."""
    created = await apply(client, admin, customer["id"])
    instant = datetime(2026, 11, 24, 10, tzinfo=TOKYO)
    read = await get_contract(client, created["id"], admin)
    (event,) = await events(client, created["id"], admin)
    for value in (
        created["created_at"],
        created["updated_at"],
        read["created_at"],
        read["updated_at"],
        event["occurred_at"],
    ):
        parsed = datetime.fromisoformat(value)
        assert parsed.tzinfo is not None, value
        assert parsed == instant
