"""Issue 14 §3: every document's contract facts name the contract it bills (contract id,
plan, licence IDs), the plan included: a cancellation invoice and a credit note have no
plan line to show it. §4: the plan is the invoice's own, stored at issue, never read from
today's contract."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
from sqlalchemy import select, text, update

from app.contracts.models import Contract
from app.core.clock import FixedClock
from app.core.database import create_engine
from app.core.migrations import upgrade
from app.core.settings import Settings
from app.invoices.models import Invoice
from app.invoices.pdf import PayDetails, render
from app.invoices.receivables import InvoiceView
from tests.einvoice.scenario import make_documents
from tests.invoices.test_invoice_pdf import text_of
from tests.support.databases import BoundDatabase, fresh_database

Headers = dict[str, str]
FOUNDATION = "プラン Cisco Secure Connect Foundation Essential"
COMPLETE = "プラン Cisco Secure Connect Complete Advantage"


async def test_every_kind_of_document_names_the_plan_as_issued_issue_14_s3(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase, clock: FixedClock
) -> None:
    documents = await make_documents(client, admin, clock)
    async with database.sessionmaker() as session:
        stored = {plan for (plan,) in (await session.execute(select(Invoice.plan))).all()}
        # Today's contracts say otherwise; no document has been rendered yet (§4).
        await session.execute(update(Contract).values(plan="complete-essential"))
        await session.commit()
    expected = {
        "monthly": FOUNDATION,
        "first-with-one-time-items": FOUNDATION,
        "late-payment-charge": FOUNDATION,
        "final-with-early-termination": FOUNDATION,
        "cancellation": COMPLETE,
        "credit-note": FOUNDATION,  # from the invoice it corrects
    }
    assert set(expected) == set(documents)
    for kind, plan in expected.items():
        record = documents[kind].record
        path = "credit-notes" if kind == "credit-note" else "invoices"
        response = await client.get(f"/v1/{path}/{record['id']}/pdf", headers=admin)
        assert response.status_code == 200, response.text
        pdf = text_of(response.content)
        head = pdf.split("内容")[0]  # the header, above the lines' table
        assert plan in head, f"{kind}: {plan!r} not in\n{head}"
        assert "ご契約番号 " in head, kind
        assert "ライセンスID数 " in head, kind
        assert "Complete Essential" not in pdf, kind
    assert stored == {"foundation-essential", "complete-advantage"}


def test_an_invoice_without_a_stored_plan_prints_no_plan_issue_14_s3() -> None:
    invoice = Invoice(
        id="inv_old",
        number="INV-2026-0000007",
        contract_id="ctr_old",
        customer_id="cus_old",
        kind="cancellation",
        month="2026-05",
        issued_on=date(2026, 5, 10),
        due_on=date(2026, 6, 30),
        recipient_name="株式会社サンプル",
        issuer_name="アルテリア・ネットワークス株式会社",
        issuer_registration_number="T1345678901234",
        plan=None,
        tax_rate_percent="10",
        taxable_subtotal=0,
        tax=0,
        non_taxable_subtotal=0,
        total=0,
        status="issued",
        created_at=datetime(2026, 5, 10, tzinfo=UTC),
    )
    view = InvoiceView(invoice=invoice, lines=[], credit_notes=[])
    pdf = text_of(render(view, Settings().invoice_font_path, PayDetails()))
    assert "ご契約番号 ctr_old" in pdf
    assert "プラン" not in pdf
    invoice.plan = "unknown-plan"  # a code the catalogue no longer has prints as stored
    pdf = text_of(render(view, Settings().invoice_font_path, PayDetails()))
    assert "プラン unknown-plan" in pdf


async def test_0018_fills_the_plan_of_earlier_invoices_from_their_contract_issue_14_s3(
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
