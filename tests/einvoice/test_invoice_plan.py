"""Issue 14 §3, §4: the plan an invoice bills is stored on it at issue."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import text

from app.core.database import create_engine
from app.core.migrations import upgrade
from tests.support.databases import fresh_database

Headers = dict[str, str]
FOUNDATION = "プラン Cisco Secure Connect Foundation Essential"
COMPLETE = "プラン Cisco Secure Connect Complete Advantage"


async def test_0017_fills_the_plan_of_earlier_invoices_from_their_contract_issue_14_s3(
    db_kind: str, tmp_path: Path
) -> None:
    """A contract keeps its plan for life (R-LC-8), so its plan is each invoice's."""
    now = datetime(2026, 8, 1, tzinfo=UTC)
    async with fresh_database(db_kind, tmp_path) as url:
        await asyncio.to_thread(upgrade, url, "0016_stats_payments_by_day")
        engine = create_engine(url, pool_size=1)
        try:
            async with engine.begin() as conn:
                await conn.execute(
                    text(
                        "INSERT INTO customers (id, name, billing_name, email, version, "
                        "updated_at, created_at) VALUES ('cus_1', 'n', 'b', 'e@x.jp', 1, :t, :t)"
                    ),
                    {"t": now},
                )
                for n, plan in ((1, "foundation-essential"), (2, "complete-advantage")):
                    await conn.execute(
                        text(
                            "INSERT INTO contracts (id, customer_id, status, plan, license_ids, "
                            "soc, reserved_ip, ad_integration, onboarding_kind, received_on, "
                            "arrival_seq, planned_installation_on, administrators, version, "
                            "updated_at, created_at) VALUES (:id, 'cus_1', 'active', :plan, "
                            "50, false, false, false, 'simple', :d, :n, :d, '[]', 1, :t, :t)"
                        ),
                        {"id": f"con_{n}", "plan": plan, "n": n, "t": now, "d": date(2026, 5, 1)},
                    )
                    await conn.execute(
                        text(
                            "INSERT INTO invoices (id, number, contract_id, customer_id, kind, "
                            "month, monthly_month, issued_on, due_on, recipient_name, "
                            "issuer_name, issuer_registration_number, tax_rate_percent, "
                            "taxable_subtotal, tax, non_taxable_subtotal, total, amount_paid, "
                            "status, created_at) VALUES (:id, :number, :contract, 'cus_1', "
                            "'monthly', '2026-06', '2026-06', :i, :due, 'b', 'i', "
                            "'T0000000000000', '10', 0, 0, 0, 0, 0, 'issued', :t)"
                        ),
                        {
                            "id": f"inv_{n}",
                            "number": f"INV-2026-000000{n}",
                            "contract": f"con_{n}",
                            "t": now,
                            "i": date(2026, 7, 1),
                            "due": date(2026, 7, 31),
                        },
                    )
            await asyncio.to_thread(upgrade, url)
            async with engine.connect() as conn:
                rows = (await conn.execute(text("SELECT id, plan FROM invoices ORDER BY id"))).all()
        finally:
            await engine.dispose()
    assert [tuple(r) for r in rows] == [
        ("inv_1", "foundation-essential"),
        ("inv_2", "complete-advantage"),
    ]
