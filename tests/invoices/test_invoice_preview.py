"""GET /v1/contracts/{id}/invoice-preview: a month's invoice, not stored (API.md)."""

from __future__ import annotations

from datetime import date

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import FixedClock
from app.invoices.models import Invoice
from tests.conftest import KeyFactory
from tests.contracts.steps import at
from tests.invoices.billing_steps import active_contract, preview, run_month

Headers = dict[str, str]


async def test_the_first_month_previews_the_invoice_the_run_then_issues(
    client: httpx.AsyncClient, admin: Headers, session: AsyncSession, clock: FixedClock
) -> None:
    """Worked example A: the preview of June is the June invoice, minus its number. On the
    scheduled issue day (R-INV-1, issue 9 §1) both carry its dates."""
    contract = await active_contract(client, admin)
    at(clock, date(2026, 7, 1))
    draft = await preview(client, admin, contract["id"], "2026-06")
    assert (draft["invoiced"], draft["billable"], draft["number"]) == (False, True, None)
    assert (draft["taxable_subtotal"], draft["tax"], draft["total"]) == (643_000, 64_300, 707_300)
    assert (draft["issued_on"], draft["due_on"]) == ("2026-07-01", "2026-07-31")
    assert await session.scalar(select(func.count()).select_from(Invoice)) == 0
    await run_month(client, admin, "2026-06")
    issued = await preview(client, admin, contract["id"], "2026-06")
    assert issued["invoiced"] is True
    assert issued["number"] == "INV-2026-0000001"
    for key in ("lines", "taxable_subtotal", "tax", "non_taxable_subtotal", "total", "issued_on"):
        assert issued[key] == draft[key], key


async def test_a_later_month_shows_only_its_own_charges_issue_9_s2(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    """R-CHG-3, R-CHG-9, issue 9 §2: once June is invoiced the one-time item is gone; an
    ad-hoc charge for July shows on July's preview only (never on a later month's), and
    the July run bills it."""
    contract = await active_contract(client, admin)
    await run_month(client, admin, "2026-06")
    added = await client.post(
        f"/v1/contracts/{contract['id']}/charges",
        json={"kind": "work", "description": "追加作業", "amount": 20_000, "month": "2026-07"},
        headers=admin,
    )
    assert added.status_code == 201, added.text
    december = await preview(client, admin, contract["id"], "2026-12")
    assert [line["item"] for line in december["lines"]] == ["basic", "foundation-essential"]
    assert (december["issued_on"], december["due_on"]) == ("2027-01-01", "2027-01-31")
    draft = await preview(client, admin, contract["id"], "2026-07")
    assert [line["item"] for line in draft["lines"]] == ["basic", "foundation-essential", "work"]
    await run_month(client, admin, "2026-07")
    july = await preview(client, admin, contract["id"], "2026-07")
    assert july["invoiced"] is True
    assert july["lines"][-1]["item"] == "work"
    assert (july["taxable_subtotal"], july["tax"], july["total"]) == (113_000, 11_300, 124_300)
    later = await preview(client, admin, contract["id"], "2026-12")
    assert [line["item"] for line in later["lines"]] == ["basic", "foundation-essential"]


async def test_who_may_preview(
    client: httpx.AsyncClient, admin: Headers, make_key: KeyFactory
) -> None:
    """crm and operator keys see any contract; a portal key its own customer's only
    (R-PTN-3: 404 for another's); a partner key none."""
    contract = await active_contract(client, admin)
    other = await active_contract(client, admin)
    path = f"/v1/contracts/{contract['id']}/invoice-preview"
    for role in ("operator", "crm"):
        headers = await make_key(role)
        assert (
            await client.get(path, params={"month": "2026-06"}, headers=headers)
        ).status_code == 200
    own = await make_key("portal", customer_id=contract["customer_id"])
    assert (await client.get(path, params={"month": "2026-06"}, headers=own)).status_code == 200
    foreign = await make_key("portal", customer_id=other["customer_id"])
    hidden = await client.get(path, params={"month": "2026-06"}, headers=foreign)
    assert (hidden.status_code, hidden.json()["code"]) == (404, "contract_not_found")
    partner = await make_key("partner")
    assert (await client.get(path, params={"month": "2026-06"}, headers=partner)).status_code == 403
    assert (await client.get(path, params={"month": "2026-6"}, headers=admin)).status_code == 422
    assert (await client.get(path, headers=admin)).status_code == 422
