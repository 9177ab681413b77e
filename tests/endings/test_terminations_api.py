"""Terminations through the API: every reason of R-TERM-4, the notice rule (R-TERM-3), the
scheduled termination and what it forbids, who may file which reason.

Example B: active from 2026-06-15, term end 2027-05-20, 501,200 a month; today is
2026-11-24. Example D (contractor_request, notice 2026-09-10, effective 2026-12-10,
2,506,000) is in test_changes_smoke.py.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import FixedClock
from app.pricing.early_termination import Party, TerminationReason
from tests.conftest import KeyFactory
from tests.contracts.changes_support import (
    B_FIELDS,
    B_MONTHLY,
    Body,
    Headers,
    event_types,
    example_a,
    example_b,
    invoice_month,
    ledger,
    problem,
    read,
)
from tests.contracts.steps import accepted, at, onboarding
from tests.support.databases import BoundDatabase
from tests.support.factories import EXAMPLE_B, create_customer


async def _terminate(
    client: httpx.AsyncClient, headers: Headers, contract_id: str, **body: Any
) -> httpx.Response:
    return await client.post(
        f"/v1/contracts/{contract_id}/terminations", json=body, headers=headers
    )


def _summary(charges: list[Body]) -> list[tuple[str, str, int, bool, str, str]]:
    return [
        (c["kind"], c["item"], c["amount"], c["taxable"], c["month"], c["rule"]) for c in charges
    ]


def test_r_term_4_the_table_is_data() -> None:
    """Every reason of R-TERM-4 with who files it, its notice rule and its charge."""
    table = {
        reason.value: (
            reason.rule.who,
            reason.rule.needs_notice,
            reason.rule.early_termination_charge,
            reason.rule.cancellation_fee_instead,
            reason.rule.costs_incurred_billed,
        )
        for reason in TerminationReason
    }
    contractor, carrier = Party.CONTRACTOR, Party.CARRIER
    assert table == {
        "contractor_request": (contractor, True, True, False, False),
        "non_renewal": (contractor, True, False, False, False),
        "plan_change": (contractor, True, True, False, False),
        "payment_default": (carrier, False, True, False, False),
        "breach": (carrier, False, True, False, False),
        "onboarding_deadline_exceeded": (carrier, False, False, True, False),
        "nonconformity_unresolved": (contractor, False, False, False, True),
        "service_discontinued": (carrier, False, False, False, False),
        "force_majeure": (carrier, False, False, False, False),
    }


# --- contractor_request ------------------------------------------------------------------


async def test_r_term_4_contractor_request_is_active_until_its_date_then_terminated(
    client: httpx.AsyncClient, admin: Headers, clock: FixedClock, session: AsyncSession
) -> None:
    contract = await example_b(client, admin)
    response = await _terminate(
        client,
        admin,
        contract["id"],
        reason="contractor_request",
        effective_on="2026-12-10",
        notice_on="2026-09-10",
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "active"
    assert body["termination"] == {
        "reason": "contractor_request",
        "effective_on": "2026-12-10",
        "notice_on": "2026-09-10",
        "breach_item": None,
        "recorded_on": "2026-11-24",
        "done": False,
    }
    assert (await event_types(session, contract["id"]))[-1] == "contract.termination_scheduled"
    at(clock, date(2026, 12, 10))
    assert (await read(client, contract["id"], admin))["status"] == "active"
    at(clock, date(2026, 12, 11))
    after = await read(client, contract["id"], admin)
    assert after["status"] == "terminated"
    assert after["termination"]["done"] is True
    assert after["license_ids"] == 120
    # A terminated contract allows no move (R-LC-10).
    refused = problem(
        await client.post(
            f"/v1/contracts/{contract['id']}/license-changes",
            json={"license_ids": 150, "effective_on": "2026-12-05"},
            headers=admin,
        ),
        409,
        "invalid_transition",
    )
    assert refused["current_status"] == "terminated"
    assert refused["allowed"] == []
    problem(
        await _terminate(
            client, admin, contract["id"], reason="payment_default", effective_on="2026-12-10"
        ),
        409,
        "invalid_transition",
    )
    problem(
        await client.post(
            f"/v1/contracts/{contract['id']}/suspensions",
            json={"starts_on": "2026-12-01", "reason": "other"},
            headers=admin,
        ),
        409,
        "invalid_transition",
    )


async def test_r_term_3_contractor_request_without_notice_is_refused(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    contract = await example_b(client, admin)
    body = problem(
        await _terminate(
            client, admin, contract["id"], reason="contractor_request", effective_on="2027-03-10"
        ),
        422,
        "notice_required",
    )
    assert body["rule"] == "R-TERM-3"
    assert (await read(client, contract["id"], admin))["termination"] is None


async def test_r_term_3_a_notice_dated_after_today_is_refused(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    contract = await example_b(client, admin)
    body = problem(
        await _terminate(
            client,
            admin,
            contract["id"],
            reason="contractor_request",
            effective_on="2027-03-10",
            notice_on="2026-11-25",
        ),
        422,
        "date_in_future",
    )
    assert body["field"] == "notice_on"
    assert body["latest_allowed"] == "2026-11-24"


# --- non_renewal ----------------------------------------------------------------------------


async def test_r_term_4_non_renewal_ends_at_the_term_end_without_a_charge(
    client: httpx.AsyncClient, admin: Headers, clock: FixedClock
) -> None:
    contract = await example_b(client, admin)
    response = await _terminate(
        client,
        admin,
        contract["id"],
        reason="non_renewal",
        effective_on="2027-05-20",
        notice_on="2026-11-24",
    )
    assert response.status_code == 200, response.text
    assert response.json()["termination"]["reason"] == "non_renewal"
    assert await ledger(client, contract, admin) == []
    at(clock, date(2027, 5, 21))
    after = await read(client, contract["id"], admin)
    assert after["status"] == "terminated"
    assert after["term"]["end_on"] == "2027-05-20"
    assert after["term"]["renewals"] == 0


async def test_r_term_3_non_renewal_notice_on_the_deadline_day_is_accepted(
    client: httpx.AsyncClient, admin: Headers, clock: FixedClock
) -> None:
    """Example C: the non-renewal notice for 2027-05-20 is due by 2027-02-20."""
    contract = await example_b(client, admin)
    at(clock, date(2027, 2, 20))
    assert (await read(client, contract["id"], admin))["term"]["notice_deadline"] == "2027-02-20"
    response = await _terminate(
        client,
        admin,
        contract["id"],
        reason="non_renewal",
        effective_on="2027-05-20",
        notice_on="2027-02-20",
    )
    assert response.status_code == 200, response.text


async def test_r_term_3_non_renewal_notice_one_day_late_is_refused(
    client: httpx.AsyncClient, admin: Headers, clock: FixedClock
) -> None:
    contract = await example_b(client, admin)
    at(clock, date(2027, 2, 21))
    body = problem(
        await _terminate(
            client,
            admin,
            contract["id"],
            reason="non_renewal",
            effective_on="2027-05-20",
            notice_on="2027-02-21",
        ),
        422,
        "notice_too_late",
    )
    assert body["rule"] == "R-TERM-3"
    # A non-renewal takes effect at a term end: the next one the notice still reaches.
    assert body["earliest_effective_on"] == "2028-05-20"
    assert body["notice_deadline"] == "2027-02-20"


async def test_r_term_3_non_renewal_on_another_date_than_the_term_end_is_refused(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    contract = await example_b(client, admin)
    body = problem(
        await _terminate(
            client,
            admin,
            contract["id"],
            reason="non_renewal",
            effective_on="2027-04-30",
            notice_on="2026-11-24",
        ),
        422,
        "non_renewal_not_at_term_end",
    )
    assert body["term_end_on"] == "2027-05-20"
    assert body["notice_deadline"] == "2027-02-20"


# --- carrier reasons with the early-termination charge ----------------------------------


async def test_r_term_4_payment_default_needs_no_notice_and_bears_the_charge(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    contract = await example_b(client, admin)
    response = await _terminate(
        client, admin, contract["id"], reason="payment_default", effective_on="2026-12-10"
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "active"
    charges = await ledger(client, contract, admin)
    assert _summary(charges) == [
        ("early-termination", "early-termination", 5 * B_MONTHLY, False, "2026-12", "R-CHG-5")
    ]
    assert charges[0]["invoice_id"] is None


async def test_r_term_4_an_effective_date_already_past_terminates_at_once(
    client: httpx.AsyncClient, admin: Headers, session: AsyncSession
) -> None:
    """payment_default effective 2026-11-20, recorded 2026-11-24: December to May, 6 months."""
    contract = await example_b(client, admin)
    response = await _terminate(
        client, admin, contract["id"], reason="payment_default", effective_on="2026-11-20"
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "terminated"
    assert response.json()["termination"]["done"] is True
    assert (await event_types(session, contract["id"]))[-2:] == [
        "contract.termination_scheduled",
        "contract.terminated",
    ]
    assert _summary(await ledger(client, contract, admin)) == [
        ("early-termination", "early-termination", 6 * B_MONTHLY, False, "2026-11", "R-CHG-5")
    ]


async def test_a_termination_in_an_invoiced_month_is_refused(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase, clock: FixedClock
) -> None:
    contract = await example_b(client, admin)
    await invoice_month(database, clock, contract, "2026-11")
    problem(
        await _terminate(
            client, admin, contract["id"], reason="payment_default", effective_on="2026-11-20"
        ),
        409,
        "month_already_invoiced",
    )
    assert await ledger(client, contract, admin) == []


async def test_r_term_4_breach_names_its_item_and_bears_the_charge(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    contract = await example_b(client, admin)
    response = await _terminate(
        client, admin, contract["id"], reason="breach", effective_on="2026-12-31", breach_item=13
    )
    assert response.status_code == 200, response.text
    assert response.json()["termination"]["breach_item"] == 13
    assert _summary(await ledger(client, contract, admin)) == [
        ("early-termination", "early-termination", 5 * B_MONTHLY, False, "2026-12", "R-CHG-5")
    ]


async def test_r_term_4_breach_needs_an_item_from_1_to_13_and_only_breach_takes_one(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    contract = await example_b(client, admin)
    missing = problem(
        await _terminate(client, admin, contract["id"], reason="breach", effective_on="2026-12-31"),
        422,
        "breach_item_mismatch",
    )
    assert missing["field"] == "breach_item"
    for item in (0, 14):
        problem(
            await _terminate(
                client,
                admin,
                contract["id"],
                reason="breach",
                effective_on="2026-12-31",
                breach_item=item,
            ),
            422,
            "validation_error",
        )
    problem(
        await _terminate(
            client,
            admin,
            contract["id"],
            reason="payment_default",
            effective_on="2026-12-31",
            breach_item=3,
        ),
        422,
        "breach_item_mismatch",
    )
    assert (await read(client, contract["id"], admin))["termination"] is None


# --- onboarding_deadline_exceeded ------------------------------------------------------------


async def test_r_term_4_onboarding_deadline_exceeded_bills_the_cancellation_fee(
    client: httpx.AsyncClient, admin: Headers, session: AsyncSession
) -> None:
    """B accepted, planned installation 2026-06-01 (deadline 2026-07-31), never started:
    the R-CHG-6 fee (1,350,000 + 200,000 of costs) instead of an early-termination charge,
    and the contract ends at once."""
    customer = await create_customer(client, admin)
    contract = await accepted(client, admin, customer["id"], **EXAMPLE_B)
    assert contract["onboarding"]["deadline"] == "2026-07-31"
    assert contract["onboarding"]["overdue"] is True
    response = await _terminate(
        client,
        admin,
        contract["id"],
        reason="onboarding_deadline_exceeded",
        effective_on="2026-11-24",
        costs=[{"description": "調達済みソフトウェア", "amount": 200_000}],
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "terminated"
    assert response.json()["termination"]["reason"] == "onboarding_deadline_exceeded"
    charges = await ledger(client, contract["id"], admin)
    assert {c["kind"] for c in charges} == {"cancellation"}
    assert {(c["item"], c["taxable"], c["month"], c["rule"]) for c in charges} == {
        ("cancellation", True, "2026-11", "R-CHG-6")
    }
    assert sorted(c["amount"] for c in charges) == [200_000, 350_000, 1_000_000]
    assert "early-termination" not in {c["item"] for c in charges}
    assert (await event_types(session, contract["id"]))[-2:] == [
        "contract.termination_scheduled",
        "contract.terminated",
    ]


async def test_r_term_4_onboarding_deadline_exceeded_after_the_onboarding_start_adds_a_year(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    """Example E after the onboarding start: 1,350,000 + 200,000 + 12 × 501,200."""
    customer = await create_customer(client, admin)
    contract = await onboarding(client, admin, customer["id"], **B_FIELDS)
    response = await _terminate(
        client,
        admin,
        contract["id"],
        reason="onboarding_deadline_exceeded",
        effective_on="2026-11-24",
        costs=[{"description": "設定作業", "amount": 200_000}],
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "terminated"
    charges = await ledger(client, contract["id"], admin)
    assert sum(c["amount"] for c in charges) == 7_564_400


async def test_r_lc_6_onboarding_deadline_exceeded_only_after_the_deadline(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    """Planned installation 2026-12-15: the deadline is 2027-01-31, not yet passed today."""
    customer = await create_customer(client, admin)
    contract = await accepted(client, admin, customer["id"], planned_installation_on="2026-12-15")
    assert contract["onboarding"]["deadline"] == "2027-01-31"
    for effective_on in ("2026-11-24", "2027-01-31", "2027-02-01"):
        body = problem(
            await _terminate(
                client,
                admin,
                contract["id"],
                reason="onboarding_deadline_exceeded",
                effective_on=effective_on,
            ),
            422,
            "onboarding_deadline_not_passed",
        )
        assert body["rule"] == "R-LC-6"
        assert body["onboarding_deadline"] == "2027-01-31"
    after = await read(client, contract["id"], admin)
    assert after["status"] == "accepted"
    assert after["termination"] is None
    assert await ledger(client, contract["id"], admin) == []


async def test_r_term_4_onboarding_deadline_exceeded_only_before_the_service_starts(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    contract = await example_a(client, admin)
    body = problem(
        await _terminate(
            client,
            admin,
            contract["id"],
            reason="onboarding_deadline_exceeded",
            effective_on="2026-11-24",
        ),
        409,
        "invalid_transition",
    )
    assert body["current_status"] == "active"


async def test_r_lc_10_only_the_deadline_reason_ends_a_contract_before_its_service(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    customer = await create_customer(client, admin)
    contract = await accepted(client, admin, customer["id"])
    body = problem(
        await _terminate(
            client, admin, contract["id"], reason="payment_default", effective_on="2026-11-24"
        ),
        409,
        "invalid_transition",
    )
    assert body["current_status"] == "accepted"


# --- nonconformity_unresolved, service_discontinued, force_majeure -------------------------


async def test_r_term_4_nonconformity_unresolved_bills_the_costs_as_work(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    contract = await example_b(client, admin)
    response = await _terminate(
        client,
        admin,
        contract["id"],
        reason="nonconformity_unresolved",
        effective_on="2026-12-10",
        costs=[
            {"description": "再構築作業", "amount": 300_000},
            {"description": "現地調査", "amount": 45_000},
        ],
    )
    assert response.status_code == 200, response.text
    charges = await ledger(client, contract, admin)
    assert sorted(_summary(charges)) == [
        ("work", "work", 45_000, True, "2026-12", "R-TERM-4"),
        ("work", "work", 300_000, True, "2026-12", "R-TERM-4"),
    ]


async def test_r_term_4_nonconformity_unresolved_without_costs_charges_nothing(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    contract = await example_b(client, admin)
    response = await _terminate(
        client, admin, contract["id"], reason="nonconformity_unresolved", effective_on="2026-12-10"
    )
    assert response.status_code == 200, response.text
    assert await ledger(client, contract, admin) == []


@pytest.mark.parametrize("reason", ["service_discontinued", "force_majeure"])
async def test_r_term_4_carrier_reasons_without_a_charge(
    client: httpx.AsyncClient, admin: Headers, reason: str
) -> None:
    contract = await example_b(client, admin)
    response = await _terminate(
        client, admin, contract["id"], reason=reason, effective_on="2026-12-31"
    )
    assert response.status_code == 200, response.text
    assert response.json()["termination"]["reason"] == reason
    assert await ledger(client, contract, admin) == []


async def test_r_term_4_costs_are_billed_only_for_the_reasons_that_bill_them(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    contract = await example_b(client, admin)
    body = problem(
        await _terminate(
            client,
            admin,
            contract["id"],
            reason="force_majeure",
            effective_on="2026-12-31",
            costs=[{"description": "作業", "amount": 10_000}],
        ),
        422,
        "costs_not_billable",
    )
    assert body["field"] == "costs"


async def test_r_lc_8_a_plan_change_goes_through_the_plan_change_route(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    """A plan_change termination always files the new application (R-LC-8)."""
    contract = await example_b(client, admin)
    body = problem(
        await _terminate(
            client,
            admin,
            contract["id"],
            reason="plan_change",
            effective_on="2026-12-10",
            notice_on="2026-09-10",
        ),
        422,
        "plan_change_needs_application",
    )
    assert body["rule"] == "R-LC-8"
    assert (await read(client, contract["id"], admin))["termination"] is None
    assert await ledger(client, contract, admin) == []


# --- the scheduled termination --------------------------------------------------------------


async def test_r_term_4_a_second_termination_while_one_is_scheduled_is_a_conflict(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    contract = await example_b(client, admin)
    first = await _terminate(
        client, admin, contract["id"], reason="service_discontinued", effective_on="2027-01-31"
    )
    assert first.status_code == 200, first.text
    body = problem(
        await _terminate(
            client, admin, contract["id"], reason="payment_default", effective_on="2026-12-10"
        ),
        409,
        "termination_already_scheduled",
    )
    assert body["termination_effective_on"] == "2027-01-31"
    assert body["termination_reason"] == "service_discontinued"
    assert await ledger(client, contract, admin) == []


async def test_changes_dated_after_the_scheduled_termination_are_refused(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    contract = await example_a(client, admin)
    scheduled = await _terminate(
        client, admin, contract["id"], reason="service_discontinued", effective_on="2026-12-31"
    )
    assert scheduled.status_code == 200, scheduled.text
    base = f"/v1/contracts/{contract['id']}"
    for path, body in (
        ("license-changes", {"license_ids": 60, "effective_on": "2027-01-01"}),
        ("options", {"option": "reserved_ip", "effective_on": "2027-01-01"}),
        ("options", {"option": "ad_integration", "effective_on": "2027-01-01"}),
        ("suspensions", {"starts_on": "2027-01-01", "reason": "maintenance"}),
    ):
        refused = problem(
            await client.post(f"{base}/{path}", json=body, headers=admin),
            409,
            "after_termination",
        )
        assert refused["termination_effective_on"] == "2026-12-31"
    # On or before the termination date, they still apply.
    ok = await client.post(
        f"{base}/license-changes",
        json={"license_ids": 60, "effective_on": "2026-12-31"},
        headers=admin,
    )
    assert ok.status_code == 201, ok.text


async def test_r_chg_5_a_partial_termination_while_a_charged_termination_is_scheduled_is_refused(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    """The termination's charge was priced on the licences in effect on its date: a later
    decrease would charge the removed IDs twice (678,000 on top of 2,506,000)."""
    contract = await example_b(client, admin)
    terminated = await _terminate(
        client,
        admin,
        contract["id"],
        reason="contractor_request",
        effective_on="2026-12-10",
        notice_on="2026-09-10",
    )
    assert terminated.status_code == 200, terminated.text
    problem(
        await client.post(
            f"/v1/contracts/{contract['id']}/license-changes",
            json={"license_ids": 60, "effective_on": "2026-12-05", "notice_on": "2026-09-05"},
            headers=admin,
        ),
        409,
        "termination_already_scheduled",
    )
    problem(
        await client.post(
            f"/v1/contracts/{contract['id']}/option-removals",
            json={"option": "soc", "effective_on": "2026-12-05", "notice_on": "2026-09-05"},
            headers=admin,
        ),
        409,
        "termination_already_scheduled",
    )
    assert [c["amount"] for c in await ledger(client, contract, admin)] == [2_506_000]


async def test_r_chg_5_a_termination_before_a_recorded_change_is_refused(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    """A decrease effective 2027-01-10 is recorded (542,400 for February to May); a
    termination effective 2026-12-10 would bill those months again in full."""
    contract = await example_b(client, admin)
    decrease = await client.post(
        f"/v1/contracts/{contract['id']}/license-changes",
        json={"license_ids": 60, "effective_on": "2027-01-10", "notice_on": "2026-09-10"},
        headers=admin,
    )
    assert decrease.status_code == 201, decrease.text
    assert decrease.json()["early_termination_charge"] == 4 * 6 * 22_600
    body = problem(
        await _terminate(
            client,
            admin,
            contract["id"],
            reason="contractor_request",
            effective_on="2026-12-10",
            notice_on="2026-09-10",
        ),
        409,
        "changes_after_termination",
    )
    assert body["latest_change_on"] == "2027-01-10"
    assert [c["amount"] for c in await ledger(client, contract, admin)] == [542_400]
    # On the day of the change or later, the termination is priced on what remains.
    same_day = await _terminate(
        client,
        admin,
        contract["id"],
        reason="contractor_request",
        effective_on="2027-01-10",
        notice_on="2026-09-10",
    )
    assert same_day.status_code == 200, same_day.text
    charges = await ledger(client, contract, admin)
    # February to May at 60 IDs: 4 × 365,600.
    assert sorted(c["amount"] for c in charges) == [542_400, 4 * 365_600]


# --- who may file which reason -------------------------------------------------------------


async def test_portal_files_its_own_contractor_notices(
    client: httpx.AsyncClient, admin: Headers, make_key: KeyFactory
) -> None:
    contract = await example_b(client, admin)
    portal = await make_key("portal", customer_id=contract["customer_id"])
    response = await _terminate(
        client,
        portal,
        contract["id"],
        reason="non_renewal",
        effective_on="2027-05-20",
        notice_on="2026-11-24",
    )
    assert response.status_code == 200, response.text
    other = await example_b(client, admin)
    portal_other = await make_key("portal", customer_id=other["customer_id"])
    own = await _terminate(
        client,
        portal_other,
        other["id"],
        reason="contractor_request",
        effective_on="2027-03-10",
        notice_on="2026-11-24",
    )
    assert own.status_code == 200, own.text
    assert own.json()["termination"]["reason"] == "contractor_request"


async def test_portal_cannot_touch_another_customers_contract(
    client: httpx.AsyncClient, admin: Headers, make_key: KeyFactory
) -> None:
    contract = await example_b(client, admin)
    stranger = await create_customer(client, admin, name="別会社")
    portal = await make_key("portal", customer_id=stranger["id"])
    problem(
        await _terminate(
            client,
            portal,
            contract["id"],
            reason="contractor_request",
            effective_on="2027-03-10",
            notice_on="2026-11-24",
        ),
        404,
        "contract_not_found",
    )
    assert (await read(client, contract["id"], admin))["termination"] is None


@pytest.mark.parametrize(
    "reason",
    [
        "payment_default",
        "breach",
        "onboarding_deadline_exceeded",
        "service_discontinued",
        "force_majeure",
    ],
)
async def test_portal_cannot_file_the_carriers_reasons(
    client: httpx.AsyncClient, admin: Headers, make_key: KeyFactory, reason: str
) -> None:
    customer = await create_customer(client, admin)
    portal = await make_key("portal", customer_id=customer["id"])
    response = await _terminate(
        client,
        portal,
        "ctr_unknown",
        reason=reason,
        effective_on="2026-12-31",
        **({"breach_item": 1} if reason == "breach" else {}),
    )
    body = problem(response, 403, "forbidden")
    assert "contractor_request" in body["allowed_reasons"]
    assert "non_renewal" in body["allowed_reasons"]
    assert reason not in body["allowed_reasons"]


async def test_crm_cannot_terminate(
    client: httpx.AsyncClient, admin: Headers, make_key: KeyFactory
) -> None:
    contract = await example_b(client, admin)
    crm = await make_key("crm")
    problem(
        await _terminate(
            client,
            crm,
            contract["id"],
            reason="non_renewal",
            effective_on="2027-05-20",
            notice_on="2026-11-24",
        ),
        403,
        "forbidden",
    )
