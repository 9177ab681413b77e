"""GET /v1/contracts/{id}/termination-quote: whether a termination is allowed and what it
would cost (R-TERM-3, R-TERM-4, R-CHG-5), changing nothing.

Example B: term end 2027-05-20, 501,200 a month; today is 2026-11-24.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditRecord
from app.core.clock import FixedClock
from tests.conftest import KeyFactory
from tests.contracts.changes_support import (
    B_MONTHLY,
    Body,
    Headers,
    example_b,
    ledger,
    problem,
    read,
)
from tests.contracts.steps import at, event_count, version_of
from tests.support.factories import create_customer


async def _quote(
    client: httpx.AsyncClient, headers: Headers, contract_id: str, **params: Any
) -> httpx.Response:
    return await client.get(
        f"/v1/contracts/{contract_id}/termination-quote", params=params, headers=headers
    )


async def _quote_ok(
    client: httpx.AsyncClient, headers: Headers, contract_id: str, **params: Any
) -> Body:
    response = await _quote(client, headers, contract_id, **params)
    assert response.status_code == 200, response.text
    body: Body = response.json()
    return body


async def _audit_count(session: AsyncSession, contract_id: str) -> int:
    value = await session.scalar(
        select(func.count()).select_from(AuditRecord).where(AuditRecord.resource_id == contract_id)
    )
    return int(value or 0)


async def test_example_d_quote_names_the_notice_deadline_and_the_term_end(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    contract = await example_b(client, admin)
    quote = await _quote_ok(
        client, admin, contract["id"], effective_on="2026-12-10", notice_on="2026-09-10"
    )
    assert quote == {
        "allowed": True,
        "reason": "contractor_request",
        "effective_on": "2026-12-10",
        "notice_on": "2026-09-10",
        "code": None,
        "detail": None,
        "earliest_effective_on": "2026-12-10",
        "notice_deadline": "2026-09-10",
        "term_end_on": "2027-05-20",
        "months": 5,
        "early_termination_charge": 5 * B_MONTHLY,
    }


async def test_r_term_3_a_late_notice_is_not_allowed_and_names_the_earliest_date(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    contract = await example_b(client, admin)
    quote = await _quote_ok(
        client, admin, contract["id"], effective_on="2026-12-10", notice_on="2026-09-11"
    )
    assert quote["allowed"] is False
    assert quote["code"] == "notice_too_late"
    assert quote["earliest_effective_on"] == "2026-12-11"
    assert quote["notice_deadline"] == "2026-09-10"
    assert (quote["months"], quote["early_termination_charge"]) == (0, 0)


async def test_r_term_3_the_notice_defaults_to_today(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    """A notice given today (2026-11-24) allows 2027-02-24 at the earliest: March to May."""
    contract = await example_b(client, admin)
    ok = await _quote_ok(client, admin, contract["id"], effective_on="2027-02-24")
    assert ok["allowed"] is True
    assert ok["notice_on"] == "2026-11-24"
    assert (ok["months"], ok["early_termination_charge"]) == (3, 3 * B_MONTHLY)
    early = await _quote_ok(client, admin, contract["id"], effective_on="2027-02-23")
    assert early["allowed"] is False
    assert early["earliest_effective_on"] == "2027-02-24"


async def test_r_term_4_quotes_follow_each_reason(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    contract = await example_b(client, admin)
    non_renewal = await _quote_ok(
        client, admin, contract["id"], effective_on="2027-05-20", reason="non_renewal"
    )
    assert non_renewal["allowed"] is True
    assert (non_renewal["months"], non_renewal["early_termination_charge"]) == (0, 0)
    wrong_day = await _quote_ok(
        client, admin, contract["id"], effective_on="2027-05-19", reason="non_renewal"
    )
    assert (wrong_day["allowed"], wrong_day["code"]) == (False, "non_renewal_not_at_term_end")
    default = await _quote_ok(
        client, admin, contract["id"], effective_on="2026-12-10", reason="payment_default"
    )
    assert default["allowed"] is True
    assert default["notice_deadline"] is None  # the carrier's reason needs no notice
    assert default["earliest_effective_on"] is None
    assert (default["months"], default["early_termination_charge"]) == (5, 5 * B_MONTHLY)
    breach = await _quote_ok(
        client, admin, contract["id"], effective_on="2026-12-10", reason="breach"
    )
    assert (breach["allowed"], breach["early_termination_charge"]) == (True, 5 * B_MONTHLY)
    plan_change = await _quote_ok(
        client,
        admin,
        contract["id"],
        effective_on="2026-12-10",
        notice_on="2026-09-10",
        reason="plan_change",
    )
    assert (plan_change["allowed"], plan_change["early_termination_charge"]) == (
        True,
        5 * B_MONTHLY,
    )
    for reason in ("service_discontinued", "force_majeure", "nonconformity_unresolved"):
        quote = await _quote_ok(
            client, admin, contract["id"], effective_on="2026-12-10", reason=reason
        )
        assert (quote["allowed"], quote["early_termination_charge"]) == (True, 0), reason
    problem(
        await _quote(client, admin, contract["id"], effective_on="2026-12-10", reason="bored"),
        422,
        "validation_error",
    )


async def test_a_quote_stores_nothing(
    client: httpx.AsyncClient, admin: Headers, session: AsyncSession
) -> None:
    contract = await example_b(client, admin)
    events_before = await event_count(session, contract["id"])
    audit_before = await _audit_count(session, contract["id"])
    version_before = await version_of(session, contract["id"])
    for params in (
        {"effective_on": "2026-12-10", "notice_on": "2026-09-10"},
        {"effective_on": "2026-12-10", "notice_on": "2026-09-11"},
        {"effective_on": "2026-12-10", "reason": "payment_default"},
    ):
        await _quote_ok(client, admin, contract["id"], **params)
    assert await event_count(session, contract["id"]) == events_before
    assert await _audit_count(session, contract["id"]) == audit_before
    assert await ledger(client, contract, admin) == []
    assert await version_of(session, contract["id"]) == version_before
    after = await read(client, contract["id"], admin)
    assert after["termination"] is None
    assert after["status"] == "active"


async def test_a_quote_while_a_termination_is_scheduled_is_not_allowed(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    contract = await example_b(client, admin)
    done = await client.post(
        f"/v1/contracts/{contract['id']}/terminations",
        json={"reason": "force_majeure", "effective_on": "2027-01-31"},
        headers=admin,
    )
    assert done.status_code == 200, done.text
    quote = await _quote_ok(client, admin, contract["id"], effective_on="2027-03-10")
    assert (quote["allowed"], quote["code"]) == (False, "termination_already_scheduled")
    assert (await read(client, contract["id"], admin))["termination"]["reason"] == "force_majeure"


async def test_portal_and_crm_read_quotes_of_contracts_they_see(
    client: httpx.AsyncClient, admin: Headers, make_key: KeyFactory
) -> None:
    contract = await example_b(client, admin)
    own = await make_key("portal", customer_id=contract["customer_id"])
    quote = await _quote_ok(client, own, contract["id"], effective_on="2027-02-24")
    assert quote["early_termination_charge"] == 3 * B_MONTHLY
    crm = await make_key("crm")
    assert (await _quote_ok(client, crm, contract["id"], effective_on="2027-02-24"))["allowed"]
    stranger = await create_customer(client, admin, name="別会社")
    other = await make_key("portal", customer_id=stranger["id"])
    problem(
        await _quote(client, other, contract["id"], effective_on="2027-02-24"),
        404,
        "contract_not_found",
    )
    partner = await make_key("partner")
    problem(
        await _quote(client, partner, contract["id"], effective_on="2027-02-24"),
        403,
        "forbidden",
    )


async def test_r_term_3_a_late_non_renewal_points_to_the_next_term_end(
    client: httpx.AsyncClient, admin: Headers, clock: FixedClock
) -> None:
    """A non-renewal can only take effect at a term end: a notice too late for 2027-05-20
    reaches the next one, 2028-05-20 (R-TERM-2, R-TERM-3)."""
    contract = await example_b(client, admin)
    quote = await _quote_ok(
        client,
        admin,
        contract["id"],
        reason="non_renewal",
        effective_on="2027-05-20",
        notice_on="2026-11-24",
    )
    assert quote["allowed"] is True
    at(clock, date(2027, 2, 21))
    late = await _quote_ok(
        client,
        admin,
        contract["id"],
        reason="non_renewal",
        effective_on="2027-05-20",
        notice_on="2027-02-21",
    )
    assert (late["allowed"], late["code"]) == (False, "notice_too_late")
    assert late["earliest_effective_on"] == "2028-05-20"
