"""Benchmark (issue 14 §6): invoice document rendering and the CSV index.

Run ``python bench/documents_bench.py``; prints one JSON object per case:

- ``pdf_render`` / ``jp_pint_render``: the time to render one invoice's PDF and JP PINT XML
  (a first invoice of five lines), p50 and p99 in milliseconds over N renders;
- ``csv_index``: the CSV index of 100,000 invoices (fresh SQLite database, rows inserted in
  bulk), streamed by the generator behind ``GET /v1/invoices/export``; total seconds and the
  peak of Python allocations (tracemalloc) while streaming, which stays flat as the count
  grows (compare ``peak_mib`` at 10,000 and 100,000). Target: at most 10 s.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import create_async_engine

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.core.database import Database, create_engine  # noqa: E402
from app.core.migrations import upgrade  # noqa: E402
from app.core.settings import BUNDLED_INVOICE_FONT  # noqa: E402
from app.customers.models import Customer  # noqa: E402
from app.einvoice import index, jp_pint  # noqa: E402
from app.einvoice.documents import BuyerIds, IssuerDetails, invoice_document  # noqa: E402
from app.invoices import pdf  # noqa: E402
from app.invoices.models import Invoice, InvoiceLine  # noqa: E402
from app.invoices.receivables import InvoiceView  # noqa: E402
from app.invoices.repository import DocumentSearch  # noqa: E402

NOW = datetime(2026, 7, 1, 1, tzinfo=UTC)


def _invoice(n: int) -> dict[str, object]:
    return {
        "id": f"inv_{n:026d}",
        "number": f"INV-2026-{n:07d}",
        "contract_id": "ctr_bench",
        "customer_id": "cus_bench",
        "kind": "monthly",
        "month": "2026-06",
        "monthly_month": None,
        "issued_on": date(2026, 7, 1),
        "due_on": date(2026, 7, 31),
        "recipient_name": "株式会社ベンチマーク 経理部",
        "issuer_name": "アルテリア・ネットワークス株式会社",
        "issuer_registration_number": "T1345678901234",
        "tax_rate_percent": "10",
        "taxable_subtotal": 643_000,
        "tax": 64_300,
        "non_taxable_subtotal": 0,
        "total": 707_300,
        "amount_paid": 0,
        "status": "issued",
        "created_at": NOW,
    }


def _view() -> InvoiceView:
    invoice = Invoice(**_invoice(1))
    items = [
        ("basic", "基本料金", 1, 50_000),
        ("foundation-essential", "ライセンス 50 ID", 5, 8_600),
        ("onboarding-simple", "初期導入支援（簡易版）", 1, 550_000),
        ("work", "出張設定作業", 1, 30_000),
        ("manuals", "マニュアル", 1, -30_000),
    ]
    lines = [
        InvoiceLine(
            invoice_id=invoice.id,
            position=i,
            item=item,
            description=text,
            quantity=q,
            unit_price=p,
            amount=q * p,
            taxable=True,
            rule="R-CHG-1",
        )
        for i, (item, text, q, p) in enumerate(items, start=1)
    ]
    return InvoiceView(invoice, lines, [])


def _percentiles(samples: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(samples, n=100)
    return {"p50_ms": round(cuts[49] * 1000, 2), "p99_ms": round(cuts[98] * 1000, 2)}


def bench_render(count: int) -> None:
    view = _view()
    pdf_times, xml_times = [], []
    for _ in range(count):
        start = time.perf_counter()
        pdf.render(view, BUNDLED_INVOICE_FONT)
        pdf_times.append(time.perf_counter() - start)
    issuer = IssuerDetails()
    for _ in range(count * 10):
        start = time.perf_counter()
        jp_pint.build(invoice_document(view.invoice, view.lines, BuyerIds(), issuer))
        xml_times.append(time.perf_counter() - start)
    print(json.dumps({"case": "pdf_render", "renders": count, **_percentiles(pdf_times)}))
    print(json.dumps({"case": "jp_pint_render", "renders": count * 10, **_percentiles(xml_times)}))


async def bench_index(count: int) -> None:
    with tempfile.TemporaryDirectory(prefix="scms-bench-") as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        await asyncio.to_thread(upgrade, url)
        database = Database(create_engine(url, pool_size=2))
        try:
            # The index reads invoices and customers only: no contract row is needed, so
            # the bulk insert uses a plain engine (SQLite's foreign keys off by default).
            plain = create_async_engine(url)
            async with plain.connect() as conn:
                await conn.execute(
                    insert(Customer),
                    [
                        {
                            "id": "cus_bench",
                            "name": "株式会社ベンチマーク",
                            "billing_name": "株式会社ベンチマーク 経理部",
                            "email": "bench@example.co.jp",
                            "corporate_number": "7123456789012",
                            "version": 1,
                            "created_at": NOW,
                            "updated_at": NOW,
                        }
                    ],
                )
                for first in range(0, count, 10_000):
                    last = min(first + 10_000, count)
                    await conn.execute(
                        insert(Invoice), [_invoice(n) for n in range(first + 1, last + 1)]
                    )
                await conn.commit()
            await plain.dispose()
            tracemalloc.start()
            start = time.perf_counter()
            size = lines = 0
            async for chunk in index.rows(database.sessionmaker, DocumentSearch(), None):
                size += len(chunk)
                lines += chunk.count(b"\n")
            seconds = time.perf_counter() - start
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
        finally:
            await database.dispose()
    print(
        json.dumps(
            {
                "case": "csv_index",
                "invoices": count,
                "rows": lines - 1,
                "mib": round(size / 2**20, 1),
                "seconds": round(seconds, 2),
                "peak_mib": round(peak / 2**20, 1),
            }
        )
    )


if __name__ == "__main__":
    bench_render(50)
    for n in (10_000, 100_000):
        asyncio.run(bench_index(n))
