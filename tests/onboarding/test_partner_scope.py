"""Partner-scoped keys (issue 13 §2, Art. 20.3, R-PTN-1): who performs the onboarding,
and what a partner key sees and may do."""

from __future__ import annotations

from datetime import date

import httpx
import pytest

from app.auth.roles import Role
from tests.conftest import KeyFactory
from tests.contracts.steps import Body, Headers, accepted
from tests.support.factories import EXAMPLE_B, apply, create_customer, post_ok

STARTED = date(2026, 5, 20)
MILESTONE = {"done_on": "2026-05-21"}


@pytest.fixture
async def customer(client: httpx.AsyncClient, admin: Headers) -> Body:
    return await create_customer(client, admin)


@pytest.fixture
async def partner(make_key: KeyFactory) -> Headers:
    return await make_key(Role.PARTNER)


async def _started(
    client: httpx.AsyncClient, admin: Headers, customer: Body, *, soc: bool = False, **start: str
) -> Body:
    options = {"soc": soc, "reserved_ip": False, "ad_integration": False}
    contract = await accepted(client, admin, customer["id"], options=options)
    return await post_ok(
        client,
        f"/v1/contracts/{contract['id']}/onboarding/start",
        admin,
        {"started_on": str(STARTED), **start},
    )


async def _milestone(client: httpx.AsyncClient, contract: Body, headers: Headers) -> httpx.Response:
    path = f"/v1/contracts/{contract['id']}/onboarding/milestones/explanation"
    return await client.post(path, json=MILESTONE, headers=headers)


async def test_art_20_3_onboarding_is_performed_by_the_carrier_unless_said(
    client: httpx.AsyncClient, admin: Headers, customer: Body
) -> None:
    carrier = await _started(client, admin, customer)
    assert carrier["onboarding"]["performed_by"] == "carrier"
    partner = await _started(client, admin, customer, performed_by="partner")
    assert partner["onboarding"]["performed_by"] == "partner"
    pending = await accepted(client, admin, customer["id"])
    assert pending["onboarding"]["performed_by"] is None  # not started: nobody yet


async def test_art_20_3_performed_by_is_carrier_or_partner(
    client: httpx.AsyncClient, admin: Headers, customer: Body
) -> None:
    contract = await accepted(client, admin, customer["id"])
    response = await client.post(
        f"/v1/contracts/{contract['id']}/onboarding/start",
        json={"started_on": str(STARTED), "performed_by": "reseller"},
        headers=admin,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"].endswith("performed_by")


async def test_r_ptn_1_the_partner_records_milestones_of_the_onboarding_it_performs(
    client: httpx.AsyncClient, admin: Headers, customer: Body, partner: Headers
) -> None:
    contract = await _started(client, admin, customer, performed_by="partner")
    response = await _milestone(client, contract, partner)
    assert response.status_code == 200, response.text
    assert response.json()["performed_by"] == "partner"


async def test_issue_13_s2_a_contract_the_partner_does_not_work_on_is_404_to_it(
    client: httpx.AsyncClient, admin: Headers, customer: Body, partner: Headers
) -> None:
    """No soc, onboarding by the carrier: as if it did not exist."""
    contract = await _started(client, admin, customer)
    response = await _milestone(client, contract, partner)
    assert response.status_code == 404
    assert response.json()["code"] == "contract_not_found"


async def test_r_ptn_1_a_soc_contract_onboarded_by_the_carrier_is_not_the_partners_to_record(
    client: httpx.AsyncClient, admin: Headers, customer: Body, partner: Headers
) -> None:
    """The partner sees a soc contract (for its reports), but its onboarding is the
    carrier's: a milestone from the partner is 403."""
    contract = await _started(client, admin, customer, soc=True)
    response = await _milestone(client, contract, partner)
    assert response.status_code == 403
    problem = response.json()
    assert (problem["code"], problem["rule"]) == ("onboarding_not_by_partner", "R-PTN-1")
    assert problem["performed_by"] == "carrier"
    # The operator records it as before.
    assert (await _milestone(client, contract, admin)).status_code == 200


@pytest.mark.parametrize(
    ("step", "body"),
    [
        ("accept", {"out_of_order_reason": "partner"}),
        ("reject", {"reason": "other", "notice": "x"}),
        ("withdraw", {}),
        ("onboarding/start", {"started_on": "2026-05-20"}),
    ],
)
async def test_role_partner_takes_no_decision_on_its_own_contracts(
    client: httpx.AsyncClient,
    admin: Headers,
    customer: Body,
    partner: Headers,
    step: str,
    body: Body,
) -> None:
    contract = await apply(client, admin, customer["id"], **EXAMPLE_B)  # soc: the partner's
    response = await client.post(
        f"/v1/contracts/{contract['id']}/{step}", json=body, headers=partner
    )
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "forbidden"


@pytest.mark.parametrize(
    ("step", "body"),
    [
        (
            "onboarding/inspections",
            {"inspected_on": "2026-06-01", "result": "accepted", "certificate_on": "2026-06-01"},
        ),
        ("onboarding/complete", {"completed_on": "2026-06-01"}),
        ("terminations", {"reason": "contractor_convenience", "effective_on": "2027-05-20"}),
    ],
)
async def test_role_partner_neither_inspects_completes_nor_terminates(
    client: httpx.AsyncClient,
    admin: Headers,
    customer: Body,
    partner: Headers,
    step: str,
    body: Body,
) -> None:
    contract = await _started(client, admin, customer, performed_by="partner")
    response = await client.post(
        f"/v1/contracts/{contract['id']}/{step}", json=body, headers=partner
    )
    assert response.status_code == 403, response.text
