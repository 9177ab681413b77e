"""SOC status reports (issue 13 §1, R-PTN-1, Tariff ※1 ※2)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.auth.roles import Role
from tests.conftest import KeyFactory
from tests.events.support import stored, types_of
from tests.support.databases import BoundDatabase
from tests.support.factories import EXAMPLE_B, activate, apply, create_customer

Body = dict[str, Any]
OCTOBER = {"period_start": "2026-10-01", "period_end": "2026-10-31"}


def _report(contract: Body, **overrides: Any) -> Body:
    return {
        "contract_id": contract["id"],
        **OCTOBER,
        "status": "normal",
        "incident_count": 0,
        "summary": "検知なし。定常監視のみ。",
        **overrides,
    }


async def _active(
    client: httpx.AsyncClient, operator: dict[str, str], customer_id: str, **overrides: Any
) -> Body:
    """Active from 2026-06-15 (worked example B's options unless overridden)."""
    contract = await apply(client, operator, customer_id, **{**EXAMPLE_B, **overrides})
    return await activate(client, operator, contract)


@pytest.fixture
async def operator(make_key: KeyFactory) -> dict[str, str]:
    return await make_key(Role.OPERATOR)


@pytest.fixture
async def partner(make_key: KeyFactory) -> dict[str, str]:
    return await make_key(Role.PARTNER)


@pytest.fixture
async def customer(client: httpx.AsyncClient, operator: dict[str, str]) -> Body:
    return await create_customer(client, operator)


@pytest.fixture
async def soc_contract(client: httpx.AsyncClient, operator: dict[str, str], customer: Body) -> Body:
    return await _active(client, operator, customer["id"])


async def _post(client: httpx.AsyncClient, headers: dict[str, str], body: Body) -> httpx.Response:
    return await client.post("/v1/soc-reports", json=body, headers=headers)


async def test_r_ptn_1_the_partner_reports_a_period_of_a_contract_with_soc(
    client: httpx.AsyncClient, partner: dict[str, str], soc_contract: Body
) -> None:
    response = await _post(
        client, partner, _report(soc_contract, status="incident", incident_count=2)
    )
    assert response.status_code == 201, response.text
    report = response.json()
    assert response.headers["Location"] == f"/v1/soc-reports/{report['id']}"
    assert report["contract_id"] == soc_contract["id"]
    assert report["customer_id"] == soc_contract["customer_id"]
    assert (report["status"], report["incident_count"]) == ("incident", 2)
    assert report["period_start"] == "2026-10-01"
    assert report["supersedes_id"] is None
    assert report["superseded_by_id"] is None
    fetched = await client.get(f"/v1/soc-reports/{report['id']}", headers=partner)
    assert fetched.json() == report


async def test_r_ptn_1_a_contract_without_soc_is_422(
    client: httpx.AsyncClient, admin: dict[str, str], operator: dict[str, str], customer: Body
) -> None:
    plain = await _active(
        client,
        operator,
        customer["id"],
        options={"soc": False, "reserved_ip": False, "ad_integration": False},
    )
    response = await _post(client, admin, _report(plain))
    assert response.status_code == 422, response.text
    problem = response.json()
    assert (problem["code"], problem["rule"]) == ("soc_not_in_effect", "R-PTN-1")


async def test_r_ptn_1_a_contract_without_soc_is_not_even_visible_to_the_partner(
    client: httpx.AsyncClient, partner: dict[str, str], operator: dict[str, str], customer: Body
) -> None:
    """Issue 13 §2: the partner sees only the contracts it works on; another is 404."""
    plain = await _active(
        client,
        operator,
        customer["id"],
        options={"soc": False, "reserved_ip": False, "ad_integration": False},
    )
    response = await _post(client, partner, _report(plain))
    assert response.status_code == 404, response.text
    assert response.json()["code"] == "contract_not_found"


@pytest.mark.parametrize(
    ("period", "code"),
    [
        ({"period_start": "2026-06-01", "period_end": "2026-06-30"}, "period_outside_service"),
        ({"period_start": "2026-11-01", "period_end": "2026-11-30"}, "date_in_future"),
    ],
)
async def test_r_ptn_1_the_period_lies_within_the_service_and_the_past(
    client: httpx.AsyncClient,
    partner: dict[str, str],
    soc_contract: Body,
    period: Body,
    code: str,
) -> None:
    """Service from 2026-06-15; today is 2026-11-24 in the tests."""
    response = await _post(client, partner, _report(soc_contract, **period))
    assert response.status_code == 422, response.text
    assert response.json()["code"] == code
    assert response.json()["rule"] == "R-PTN-1"


async def test_r_ptn_1_a_period_before_the_service_starts_is_refused_even_if_it_ends_inside(
    client: httpx.AsyncClient, partner: dict[str, str], soc_contract: Body
) -> None:
    response = await _post(
        client, partner, _report(soc_contract, period_start="2026-06-14", period_end="2026-06-20")
    )
    assert response.status_code == 422
    assert response.json()["service_start_on"] == "2026-06-15"


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"period_start": "2026-10-31", "period_end": "2026-10-01"}, "period_end"),
        ({"incident_count": -1}, "incident_count"),
        ({"status": "fine"}, "status"),
        ({"summary": ""}, "summary"),
    ],
)
async def test_r_ptn_1_a_malformed_report_is_422_naming_the_field(
    client: httpx.AsyncClient,
    partner: dict[str, str],
    soc_contract: Body,
    override: Body,
    field: str,
) -> None:
    response = await _post(client, partner, _report(soc_contract, **override))
    assert response.status_code == 422, response.text
    assert field in [e["field"].split(".")[-1] for e in response.json()["errors"]]


async def test_r_ptn_1_a_second_report_of_the_period_is_409_naming_the_first(
    client: httpx.AsyncClient, partner: dict[str, str], soc_contract: Body
) -> None:
    first = (await _post(client, partner, _report(soc_contract))).json()
    again = await _post(client, partner, _report(soc_contract, status="warning"))
    assert again.status_code == 409, again.text
    problem = again.json()
    assert (problem["code"], problem["existing_id"]) == ("soc_report_exists", first["id"])
    # Another period of the same contract is a report of its own.
    september = _report(soc_contract, period_start="2026-09-01", period_end="2026-09-30")
    assert (await _post(client, partner, september)).status_code == 201


async def test_r_ptn_1_a_correction_supersedes_the_current_report_once(
    client: httpx.AsyncClient, partner: dict[str, str], soc_contract: Body
) -> None:
    first = (await _post(client, partner, _report(soc_contract))).json()
    fix = await _post(
        client,
        partner,
        _report(soc_contract, status="critical", incident_count=1, supersedes_id=first["id"]),
    )
    assert fix.status_code == 201, fix.text
    correction = fix.json()
    assert correction["supersedes_id"] == first["id"]
    old = (await client.get(f"/v1/soc-reports/{first['id']}", headers=partner)).json()
    assert old["superseded_by_id"] == correction["id"]
    # The first is no longer current: correcting it again is 409 naming the correction.
    twice = await _post(client, partner, _report(soc_contract, supersedes_id=first["id"]))
    assert twice.status_code == 409
    assert twice.json()["existing_id"] == correction["id"]


async def test_r_ptn_1_superseding_a_report_of_no_such_period_is_422(
    client: httpx.AsyncClient, partner: dict[str, str], soc_contract: Body
) -> None:
    response = await _post(client, partner, _report(soc_contract, supersedes_id="soc_nothing"))
    assert response.status_code == 422
    assert response.json()["code"] == "supersedes_unknown"


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.CRM])
async def test_role_only_the_partner_reports(
    client: httpx.AsyncClient, make_key: KeyFactory, soc_contract: Body, role: Role
) -> None:
    """R-PTN-1: a report from a client without the partner role is refused (admin may)."""
    response = await _post(client, await make_key(role), _report(soc_contract))
    assert response.status_code == 403, response.text


async def test_role_portal_may_not_report(
    client: httpx.AsyncClient, make_key: KeyFactory, soc_contract: Body
) -> None:
    portal = await make_key(Role.PORTAL, customer_id=soc_contract["customer_id"])
    response = await _post(client, portal, _report(soc_contract))
    assert response.status_code == 403


async def test_role_admin_may_report(
    client: httpx.AsyncClient, admin: dict[str, str], soc_contract: Body
) -> None:
    assert (await _post(client, admin, _report(soc_contract))).status_code == 201


@pytest.mark.parametrize("role", [Role.ADMIN, Role.OPERATOR, Role.CRM, Role.PARTNER])
async def test_role_staff_crm_and_partner_read_every_report(
    client: httpx.AsyncClient,
    make_key: KeyFactory,
    partner: dict[str, str],
    operator: dict[str, str],
    soc_contract: Body,
    role: Role,
) -> None:
    other_customer = await create_customer(client, operator, name="株式会社ベツ")
    other = await _active(client, operator, other_customer["id"])
    ids = {(await _post(client, partner, _report(c))).json()["id"] for c in (soc_contract, other)}
    listed = await client.get("/v1/soc-reports", headers=await make_key(role))
    assert listed.status_code == 200
    assert ids <= {r["id"] for r in listed.json()["items"]}


async def test_role_portal_reads_its_own_customers_reports_only(
    client: httpx.AsyncClient,
    make_key: KeyFactory,
    partner: dict[str, str],
    operator: dict[str, str],
    soc_contract: Body,
) -> None:
    other_customer = await create_customer(client, operator, name="株式会社ベツ")
    other = await _active(client, operator, other_customer["id"])
    mine = (await _post(client, partner, _report(soc_contract))).json()
    theirs = (await _post(client, partner, _report(other))).json()
    portal = await make_key(Role.PORTAL, customer_id=soc_contract["customer_id"])
    listed = (await client.get("/v1/soc-reports", headers=portal)).json()
    assert [r["id"] for r in listed["items"]] == [mine["id"]]
    assert (await client.get(f"/v1/soc-reports/{mine['id']}", headers=portal)).status_code == 200
    hidden = await client.get(f"/v1/soc-reports/{theirs['id']}", headers=portal)
    assert hidden.status_code == 404
    assert hidden.json()["code"] == "soc_report_not_found"


async def test_the_list_filters_by_contract_status_and_since(
    client: httpx.AsyncClient, partner: dict[str, str], operator: dict[str, str], soc_contract: Body
) -> None:
    september = _report(
        soc_contract, period_start="2026-09-01", period_end="2026-09-30", status="warning"
    )
    sep = (await _post(client, partner, september)).json()
    oct_ = (await _post(client, partner, _report(soc_contract))).json()

    async def ids(**params: str) -> list[str]:
        response = await client.get("/v1/soc-reports", params=params, headers=operator)
        assert response.status_code == 200, response.text
        return [r["id"] for r in response.json()["items"]]

    assert await ids(contract_id=soc_contract["id"]) == [oct_["id"], sep["id"]]  # newest first
    assert await ids(status="warning") == [sep["id"]]
    assert await ids(since="2026-10-01") == [oct_["id"]]
    assert await ids(contract_id="con_other") == []
    bad = await client.get("/v1/soc-reports", params={"status": "fine"}, headers=operator)
    assert bad.status_code == 422


async def test_r_ptn_1_a_report_records_its_events_critical_twice_over(
    client: httpx.AsyncClient,
    partner: dict[str, str],
    operator: dict[str, str],
    soc_contract: Body,
    database: BoundDatabase,
) -> None:
    """Issue 13 §1: `soc_report.created` for every report, and `soc_report.critical` too
    for a critical one (the customer's alerting), each with the report as its GET reads."""
    normal = (await _post(client, partner, _report(soc_contract))).json()
    critical = (
        await _post(
            client,
            partner,
            _report(
                soc_contract,
                period_start="2026-11-01",
                period_end="2026-11-10",
                status="critical",
                incident_count=1,
            ),
        )
    ).json()
    assert await types_of(database, normal["id"]) == ["soc_report.created"]
    assert sorted(await types_of(database, critical["id"])) == [
        "soc_report.created",
        "soc_report.critical",
    ]
    for event in await stored(database, critical["id"]):
        assert event.data == critical
        assert event.customer_id == soc_contract["customer_id"]
    listed = await client.get(
        "/v1/events", params={"type": "soc_report.critical"}, headers=operator
    )
    assert [e["data"]["id"] for e in listed.json()["items"]] == [critical["id"]]
