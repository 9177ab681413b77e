"""issue 9 §3: a termination quote answers "what if": a notice dated in the future is a
question (what would they owe if they gave notice then?), not a fact. Only the POSTs that
record a notice refuse one not yet given (``date_in_future``, R-TERM-3).

Example B: term end 2027-05-20, 501,200 a month; today is 2026-11-24.
"""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.contracts.changes_support import (
    B_MONTHLY,
    Body,
    Headers,
    example_b,
    ledger,
    problem,
    read,
)
from tests.contracts.steps import event_count, version_of


async def _quote(
    client: httpx.AsyncClient, headers: Headers, contract_id: str, **params: Any
) -> Body:
    response = await client.get(
        f"/v1/contracts/{contract_id}/termination-quote", params=params, headers=headers
    )
    assert response.status_code == 200, response.text
    body: Body = response.json()
    return body


async def test_issue_9_s3_a_quote_takes_a_notice_given_next_month(
    client: httpx.AsyncClient, admin: Headers, session: AsyncSession
) -> None:
    """Notice on 2026-12-10 for 2027-03-10: allowed; April and May remain (R-CHG-5)."""
    contract = await example_b(client, admin)
    version = await version_of(session, contract["id"])
    events = await event_count(session, contract["id"])
    quote = await _quote(
        client, admin, contract["id"], effective_on="2027-03-10", notice_on="2026-12-10"
    )
    assert quote == {
        "allowed": True,
        "reason": "contractor_request",
        "effective_on": "2027-03-10",
        "notice_on": "2026-12-10",
        "code": None,
        "detail": None,
        "earliest_effective_on": "2027-03-10",
        "notice_deadline": "2026-12-10",
        "term_end_on": "2027-05-20",
        "months": 2,
        "early_termination_charge": 2 * B_MONTHLY,
    }
    # A quote changes nothing.
    assert await version_of(session, contract["id"]) == version
    assert await event_count(session, contract["id"]) == events
    assert await ledger(client, contract, admin) == []


async def test_issue_9_s3_a_future_notice_still_meets_the_three_month_rule(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    """A notice on 2026-12-11 is one day late for 2027-03-10 (R-TERM-3): not allowed, and
    the quote names the earliest date that notice would allow."""
    contract = await example_b(client, admin)
    quote = await _quote(
        client, admin, contract["id"], effective_on="2027-03-10", notice_on="2026-12-11"
    )
    assert (quote["allowed"], quote["code"]) == (False, "notice_too_late")
    assert quote["earliest_effective_on"] == "2027-03-11"


async def test_issue_9_s3_a_non_renewal_quote_with_a_notice_next_year(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    """Non-renewal at 2027-05-20 with notice on 2027-02-20, the last day (R-TERM-3):
    allowed and free; on 2027-02-21 it would reach only the next term end, 2028-05-20."""
    contract = await example_b(client, admin)
    on_time = await _quote(
        client,
        admin,
        contract["id"],
        reason="non_renewal",
        effective_on="2027-05-20",
        notice_on="2027-02-20",
    )
    assert (on_time["allowed"], on_time["early_termination_charge"]) == (True, 0)
    late = await _quote(
        client,
        admin,
        contract["id"],
        reason="non_renewal",
        effective_on="2027-05-20",
        notice_on="2027-02-21",
    )
    assert (late["allowed"], late["code"]) == (False, "notice_too_late")
    assert late["earliest_effective_on"] == "2028-05-20"


async def test_issue_9_s3_recording_a_notice_not_yet_given_is_still_refused(
    client: httpx.AsyncClient, admin: Headers, session: AsyncSession
) -> None:
    """The quote above is allowed; recording the same termination today is not, and
    stores nothing."""
    contract = await example_b(client, admin)
    version = await version_of(session, contract["id"])
    response = await client.post(
        f"/v1/contracts/{contract['id']}/terminations",
        json={
            "reason": "contractor_request",
            "effective_on": "2027-03-10",
            "notice_on": "2026-12-10",
        },
        headers=admin,
    )
    body = problem(response, 422, "date_in_future")
    assert (body["field"], body["latest_allowed"]) == ("notice_on", "2026-11-24")
    assert (await read(client, contract["id"], admin))["termination"] is None
    assert await version_of(session, contract["id"]) == version


async def test_issue_9_s3_without_a_notice_date_the_quote_assumes_notice_today(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    contract = await example_b(client, admin)
    quote = await _quote(client, admin, contract["id"], effective_on="2027-02-24")
    assert (quote["allowed"], quote["notice_on"], quote["months"]) == (True, "2026-11-24", 3)
