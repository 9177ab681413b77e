"""The onboarding service from its start to the service start (R-LC-5, Art. 10, 20)."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.contracts.schemas import OnboardingRead
from app.core.clock import FixedClock
from tests.conftest import KeyFactory
from tests.contracts.steps import (
    Body,
    Headers,
    accepted,
    all_milestones_done,
    at,
    event_count,
    events,
    get_contract,
    inspected,
    onboarding,
    version_of,
)
from tests.support.factories import (
    EXAMPLE_B,
    SIMPLE_MILESTONES,
    STANDARD_MILESTONES,
    create_customer,
    post_ok,
)

STARTED = date(2026, 5, 20)
STANDARD: Body = dict(EXAMPLE_B)  # worked example B: standard onboarding


@pytest.fixture
async def customer(client: httpx.AsyncClient, admin: Headers) -> Body:
    return await create_customer(client, admin)


async def _post(
    client: httpx.AsyncClient, path: str, headers: Headers, body: Any = None
) -> httpx.Response:
    return await client.post(path, json=body, headers=headers)


def _base(contract: Body) -> str:
    return f"/v1/contracts/{contract['id']}/onboarding"


async def _ready_for_inspection(
    client: httpx.AsyncClient, admin: Headers, customer_id: str, **overrides: Any
) -> Body:
    contract = await onboarding(client, admin, customer_id, **overrides)
    await all_milestones_done(client, admin, contract, date(2026, 6, 1))
    return contract


# ---- start -------------------------------------------------------------------------------


async def test_starting_onboarding_records_the_day_and_the_event(
    client: httpx.AsyncClient, admin: Headers, customer: Body
) -> None:
    """R-LC-5: onboarding_started_on is recorded when the onboarding service starts."""
    contract = await accepted(client, admin, customer["id"])
    started = await post_ok(client, f"{_base(contract)}/start", admin, {"started_on": "2026-05-20"})
    assert started["status"] == "onboarding"
    assert started["onboarding"]["started_on"] == "2026-05-20"
    assert started["service_start_on"] is None
    assert started["term"] is None
    latest = (await events(client, contract["id"], admin))[0]
    assert (latest["type"], latest["business_date"]) == (
        "contract.onboarding_started",
        "2026-05-20",
    )


async def test_onboarding_cannot_start_before_the_acceptance_date(
    client: httpx.AsyncClient, admin: Headers, customer: Body
) -> None:
    """Accepted on the receipt date 2026-05-01 (R-LC-3): the start can be that day, not before."""
    contract = await accepted(client, admin, customer["id"], received_on="2026-05-01")
    response = await _post(client, f"{_base(contract)}/start", admin, {"started_on": "2026-04-30"})
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "date_out_of_order"
    assert problem["field"] == "started_on"
    assert problem["earliest_allowed"] == "2026-05-01"
    assert (await get_contract(client, contract["id"], admin))["status"] == "accepted"
    same_day = await post_ok(
        client, f"{_base(contract)}/start", admin, {"started_on": "2026-05-01"}
    )
    assert same_day["onboarding"]["started_on"] == "2026-05-01"


# ---- milestones ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "keys", "plan"),
    [("simple", SIMPLE_MILESTONES, {}), ("standard", STANDARD_MILESTONES, EXAMPLE_B)],
)
async def test_each_kind_has_its_own_milestones(
    client: httpx.AsyncClient,
    admin: Headers,
    customer: Body,
    kind: str,
    keys: tuple[str, ...],
    plan: Body,
) -> None:
    """R-LC-5: simple — 5 milestones; standard — 7."""
    contract = await onboarding(client, admin, customer["id"], **plan)
    assert contract["onboarding"]["kind"] == kind
    assert contract["onboarding"]["milestones"] == [{"key": k, "done_on": None} for k in keys]
    for day, key in enumerate(keys, start=21):
        block = await post_ok(
            client, f"{_base(contract)}/milestones/{key}", admin, {"done_on": f"2026-05-{day}"}
        )
        done = {m["key"]: m["done_on"] for m in block["milestones"]}
        assert done[key] == f"2026-05-{day}"
    milestones = (await get_contract(client, contract["id"], admin))["onboarding"]["milestones"]
    assert milestones == [
        {"key": k, "done_on": f"2026-05-{day}"} for day, k in enumerate(keys, start=21)
    ]


@pytest.mark.parametrize(
    ("plan", "key", "allowed"),
    [
        ({}, "design", SIMPLE_MILESTONES),
        ({}, "requirements", SIMPLE_MILESTONES),
        (EXAMPLE_B, "initial_setup", STANDARD_MILESTONES),
        ({}, "party", SIMPLE_MILESTONES),
    ],
    ids=["standard-key-on-simple", "requirements-on-simple", "simple-key-on-standard", "unknown"],
)
async def test_a_milestone_of_another_kind_is_422_listing_the_allowed_keys(
    client: httpx.AsyncClient,
    admin: Headers,
    customer: Body,
    session: AsyncSession,
    plan: Body,
    key: str,
    allowed: tuple[str, ...],
) -> None:
    """R-LC-5."""
    contract = await onboarding(client, admin, customer["id"], **plan)
    history = await event_count(session, contract["id"])
    response = await _post(
        client, f"{_base(contract)}/milestones/{key}", admin, {"done_on": "2026-05-21"}
    )
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "unknown_milestone"
    assert problem["rule"] == "R-LC-5"
    assert problem["allowed"] == list(allowed)
    assert await event_count(session, contract["id"]) == history


async def test_a_partner_records_a_milestone_and_sees_only_the_onboarding_block(
    client: httpx.AsyncClient, admin: Headers, customer: Body, make_key: KeyFactory
) -> None:
    """R-PTN-1 (Art. 20.3) and R-PTN-3: the partner gets no customer data back. The
    onboarding is the partner's (issue 13 §2: it records milestones of its own)."""
    partner = await make_key("partner")
    contract = await accepted(client, admin, customer["id"])
    await post_ok(
        client,
        f"{_base(contract)}/start",
        admin,
        {"started_on": str(STARTED), "performed_by": "partner"},
    )
    response = await _post(
        client, f"{_base(contract)}/milestones/explanation", partner, {"done_on": "2026-05-21"}
    )
    assert response.status_code == 200, response.text
    block = response.json()
    assert set(block) == set(OnboardingRead.model_fields)
    for private in ("administrators", "customer_id", "monthly_charge", "id", "plan"):
        assert private not in block
    text = response.text
    for secret in ("yamada@example.co.jp", "山田", customer["id"], customer["name"]):
        assert secret not in text
    assert block["milestones"][0] == {"key": "explanation", "done_on": "2026-05-21"}


async def test_recording_the_same_milestone_on_the_same_day_again_changes_nothing(
    client: httpx.AsyncClient, admin: Headers, customer: Body, session: AsyncSession
) -> None:
    """A partner system may retry safely: 200, no new event, same version."""
    contract = await onboarding(client, admin, customer["id"])
    path = f"{_base(contract)}/milestones/training"
    first = await post_ok(client, path, admin, {"done_on": "2026-05-25"})
    version = await version_of(session, contract["id"])
    history = await event_count(session, contract["id"])
    again = await _post(client, path, admin, {"done_on": "2026-05-25"})
    assert again.status_code == 200
    assert again.json() == first
    assert await version_of(session, contract["id"]) == version
    assert await event_count(session, contract["id"]) == history


async def test_recording_a_done_milestone_with_another_date_is_409(
    client: httpx.AsyncClient, admin: Headers, customer: Body, session: AsyncSession
) -> None:
    contract = await onboarding(client, admin, customer["id"])
    path = f"{_base(contract)}/milestones/training"
    await post_ok(client, path, admin, {"done_on": "2026-05-25"})
    history = await event_count(session, contract["id"])
    response = await _post(client, path, admin, {"done_on": "2026-05-26"})
    assert response.status_code == 409
    problem = response.json()
    assert problem["code"] == "milestone_already_done"
    assert problem["done_on"] == "2026-05-25"
    assert await event_count(session, contract["id"]) == history
    milestones = (await get_contract(client, contract["id"], admin))["onboarding"]["milestones"]
    assert {"key": "training", "done_on": "2026-05-25"} in milestones


async def test_a_milestone_before_the_onboarding_start_is_422(
    client: httpx.AsyncClient, admin: Headers, customer: Body
) -> None:
    contract = await onboarding(client, admin, customer["id"], started_on=STARTED)
    response = await _post(
        client, f"{_base(contract)}/milestones/explanation", admin, {"done_on": "2026-05-19"}
    )
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "date_out_of_order"
    assert problem["earliest_allowed"] == "2026-05-20"
    on_start = await post_ok(
        client, f"{_base(contract)}/milestones/explanation", admin, {"done_on": "2026-05-20"}
    )
    assert on_start["milestones"][0]["done_on"] == "2026-05-20"


# ---- inspections (検収, Art. 20.5–20.6) ---------------------------------------------------


async def test_an_inspection_before_every_milestone_is_done_is_409_listing_the_missing(
    client: httpx.AsyncClient, admin: Headers, customer: Body
) -> None:
    contract = await onboarding(client, admin, customer["id"], **STANDARD)
    for key in ("explanation", "design", "trial"):
        await post_ok(
            client, f"{_base(contract)}/milestones/{key}", admin, {"done_on": "2026-06-01"}
        )
    response = await _post(
        client,
        f"{_base(contract)}/inspections",
        admin,
        {"inspected_on": "2026-06-10", "result": "accepted", "certificate_on": "2026-06-10"},
    )
    assert response.status_code == 409
    problem = response.json()
    assert problem["code"] == "milestones_incomplete"
    assert problem["rule"] == "R-LC-5"
    assert problem["missing_milestones"] == ["requirements", "build", "training", "manuals"]
    assert (await get_contract(client, contract["id"], admin))["onboarding"]["inspections"] == []


async def test_an_inspection_before_the_last_milestone_is_422(
    client: httpx.AsyncClient, admin: Headers, customer: Body
) -> None:
    contract = await _ready_for_inspection(client, admin, customer["id"])
    response = await _post(
        client,
        f"{_base(contract)}/inspections",
        admin,
        {"inspected_on": "2026-05-31", "result": "accepted", "certificate_on": "2026-05-31"},
    )
    assert response.status_code == 422
    assert response.json()["code"] == "date_out_of_order"
    assert response.json()["earliest_allowed"] == "2026-06-01"


@pytest.mark.parametrize(
    "body",
    [
        {"inspected_on": "2026-06-10", "result": "nonconforming"},
        {"inspected_on": "2026-06-10", "result": "nonconforming", "defects": []},
        {"inspected_on": "2026-06-10", "result": "accepted"},
        {"inspected_on": "2026-06-10", "result": "accepted", "certificate_on": "2026-06-09"},
        {
            "inspected_on": "2026-06-10",
            "result": "accepted",
            "certificate_on": "2026-06-10",
            "defects": ["ログ転送が不安定"],
        },
        {
            "inspected_on": "2026-06-10",
            "result": "nonconforming",
            "defects": ["ログ転送が不安定"],
            "certificate_on": "2026-06-10",
        },
        {"inspected_on": "2026-06-10", "result": "passed", "certificate_on": "2026-06-10"},
    ],
    ids=[
        "nonconforming-without-defects",
        "nonconforming-with-empty-defects",
        "accepted-without-certificate",
        "certificate-before-inspection",
        "accepted-with-defects",
        "nonconforming-with-certificate",
        "unknown-result",
    ],
)
async def test_an_inspection_needs_defects_or_a_certificate_according_to_its_result(
    client: httpx.AsyncClient, admin: Headers, customer: Body, body: Body
) -> None:
    """Art. 20.5–20.6: accepted with the certificate date, nonconforming with the defects."""
    contract = await _ready_for_inspection(client, admin, customer["id"])
    response = await _post(client, f"{_base(contract)}/inspections", admin, body)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_error"
    assert (await get_contract(client, contract["id"], admin))["onboarding"]["inspections"] == []


async def test_a_nonconforming_inspection_then_an_accepted_one_are_both_kept(
    client: httpx.AsyncClient, admin: Headers, customer: Body
) -> None:
    """Art. 20.5–20.6: defects are fixed free of charge, then inspected again."""
    contract = await _ready_for_inspection(client, admin, customer["id"])
    defects = ["AD連携のグループ同期が失敗する", "マニュアルの手順3が古い"]
    response = await _post(
        client,
        f"{_base(contract)}/inspections",
        admin,
        {"inspected_on": "2026-06-05", "result": "nonconforming", "defects": defects},
    )
    assert response.status_code == 201, response.text
    first = response.json()
    assert first["result"] == "nonconforming"
    assert first["defects"] == defects
    assert first["certificate_on"] is None
    second = await post_ok(
        client,
        f"{_base(contract)}/inspections",
        admin,
        {"inspected_on": "2026-06-12", "result": "accepted", "certificate_on": "2026-06-13"},
    )
    assert second["result"] == "accepted"
    assert second["certificate_on"] == "2026-06-13"
    assert second["defects"] is None
    listed = (await get_contract(client, contract["id"], admin))["onboarding"]["inspections"]
    assert listed == [first, second]
    assert [e["type"] for e in (await events(client, contract["id"], admin))[:2]] == [
        "contract.inspected",
        "contract.inspected",
    ]


async def test_a_reinspection_dated_before_the_previous_one_is_422(
    client: httpx.AsyncClient, admin: Headers, customer: Body
) -> None:
    contract = await _ready_for_inspection(client, admin, customer["id"])
    await post_ok(
        client,
        f"{_base(contract)}/inspections",
        admin,
        {"inspected_on": "2026-06-05", "result": "nonconforming", "defects": ["不具合"]},
    )
    response = await _post(
        client,
        f"{_base(contract)}/inspections",
        admin,
        {"inspected_on": "2026-06-04", "result": "accepted", "certificate_on": "2026-06-04"},
    )
    assert response.status_code == 422
    assert response.json()["earliest_allowed"] == "2026-06-05"


async def test_another_inspection_after_acceptance_is_409(
    client: httpx.AsyncClient, admin: Headers, customer: Body
) -> None:
    contract = await _ready_for_inspection(client, admin, customer["id"])
    await inspected(client, admin, contract["id"], date(2026, 6, 10))
    for body in (
        {"inspected_on": "2026-06-11", "result": "accepted", "certificate_on": "2026-06-11"},
        {"inspected_on": "2026-06-11", "result": "nonconforming", "defects": ["後から発見"]},
    ):
        response = await _post(client, f"{_base(contract)}/inspections", admin, body)
        assert response.status_code == 409
        assert response.json()["code"] == "inspection_already_accepted"
    assert (
        len((await get_contract(client, contract["id"], admin))["onboarding"]["inspections"]) == 1
    )


# ---- completion (Art. 10.1) ----------------------------------------------------------------


async def test_completion_with_milestones_missing_is_422_onboarding_incomplete(
    client: httpx.AsyncClient, admin: Headers, customer: Body
) -> None:
    contract = await onboarding(client, admin, customer["id"])
    await post_ok(
        client, f"{_base(contract)}/milestones/explanation", admin, {"done_on": "2026-05-21"}
    )
    response = await _post(
        client, f"{_base(contract)}/complete", admin, {"completed_on": "2026-06-15"}
    )
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "onboarding_incomplete"
    assert problem["rule"] == "R-LC-5"
    assert problem["missing_milestones"] == ["initial_setup", "training", "trial", "manuals"]
    assert problem["inspection_accepted"] is False
    assert (await get_contract(client, contract["id"], admin))["status"] == "onboarding"


@pytest.mark.parametrize("inspection", [None, "nonconforming"])
async def test_completion_without_an_accepted_inspection_is_422_onboarding_incomplete(
    client: httpx.AsyncClient, admin: Headers, customer: Body, inspection: str | None
) -> None:
    contract = await _ready_for_inspection(client, admin, customer["id"])
    if inspection is not None:
        await post_ok(
            client,
            f"{_base(contract)}/inspections",
            admin,
            {"inspected_on": "2026-06-05", "result": inspection, "defects": ["不具合"]},
        )
    response = await _post(
        client, f"{_base(contract)}/complete", admin, {"completed_on": "2026-06-15"}
    )
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "onboarding_incomplete"
    assert problem["missing_milestones"] == []
    assert problem["inspection_accepted"] is False
    assert (await get_contract(client, contract["id"], admin))["status"] == "onboarding"


async def test_completion_before_the_inspection_certificate_is_422(
    client: httpx.AsyncClient, admin: Headers, customer: Body
) -> None:
    contract = await _ready_for_inspection(client, admin, customer["id"])
    await inspected(client, admin, contract["id"], date(2026, 6, 15))
    response = await _post(
        client, f"{_base(contract)}/complete", admin, {"completed_on": "2026-06-14"}
    )
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "date_out_of_order"
    assert problem["earliest_allowed"] == "2026-06-15"


async def test_completion_after_the_first_terms_end_is_refused_but_on_it_is_allowed(
    client: httpx.AsyncClient, admin: Headers, customer: Body
) -> None:
    """R-LC-5 with R-TERM-1: onboarding start 2026-05-20 → the first term ends 2027-05-20."""
    contract = await _ready_for_inspection(client, admin, customer["id"])
    await inspected(client, admin, contract["id"], date(2026, 12, 1))
    late = await _post(client, f"{_base(contract)}/complete", admin, {"completed_on": "2027-05-21"})
    assert late.status_code == 422
    problem = late.json()
    assert problem["code"] == "completion_after_first_term"
    assert problem["rule"] == "R-LC-5"
    assert problem["first_term_end"] == "2027-05-20"
    assert (await get_contract(client, contract["id"], admin))["status"] == "onboarding"
    on_the_day = await post_ok(
        client, f"{_base(contract)}/complete", admin, {"completed_on": "2027-05-20"}
    )
    assert on_the_day["status"] == "active"
    assert on_the_day["service_start_on"] == "2027-05-20"
    assert on_the_day["term"]["start_on"] == "2027-05-20"
    assert on_the_day["term"]["end_on"] == "2027-05-20"


async def test_completion_on_a_leap_day_first_term_end(
    client: httpx.AsyncClient, admin: Headers, customer: Body, clock: FixedClock
) -> None:
    """R-TERM-1: onboarding from 2027-02-28 runs to 2028-02-29, not 2028-02-28."""
    at(clock, date(2027, 3, 1))
    contract = await onboarding(
        client,
        admin,
        customer["id"],
        started_on=date(2027, 2, 28),
        received_on="2027-02-01",
        planned_installation_on="2027-03-01",
    )
    await all_milestones_done(client, admin, contract, date(2027, 3, 1))
    await inspected(client, admin, contract["id"], date(2027, 3, 2))
    late = await _post(client, f"{_base(contract)}/complete", admin, {"completed_on": "2028-03-01"})
    assert late.status_code == 422
    assert late.json()["first_term_end"] == "2028-02-29"
    done = await post_ok(
        client, f"{_base(contract)}/complete", admin, {"completed_on": "2028-02-29"}
    )
    assert done["status"] == "active"


async def test_completion_makes_the_contract_active_from_the_completion_date(
    client: httpx.AsyncClient, admin: Headers, customer: Body
) -> None:
    """Art. 10.1: the completion date is the service start date."""
    contract = await _ready_for_inspection(client, admin, customer["id"])
    await inspected(client, admin, contract["id"], date(2026, 6, 12))
    response = await _post(
        client, f"{_base(contract)}/complete", admin, {"completed_on": "2026-06-15"}
    )
    assert response.status_code == 200, response.text
    active = response.json()
    assert active["status"] == "active"
    assert active["service_start_on"] == "2026-06-15"
    assert active["onboarding"]["completed_on"] == "2026-06-15"
    assert active["onboarding"]["started_on"] == "2026-05-20"
    assert active["onboarding"]["overdue"] is False
    assert active["term"]["start_on"] == "2026-06-15"
    assert active["term"]["end_on"] == "2027-05-20"
    assert await get_contract(client, contract["id"], admin) == active
    latest = (await events(client, contract["id"], admin))[0]
    assert latest["type"] == "contract.activated"
    assert latest["business_date"] == "2026-06-15"
    assert latest["payload"]["service_start_on"] == "2026-06-15"
    assert latest["payload"]["first_term_end"] == "2027-05-20"
