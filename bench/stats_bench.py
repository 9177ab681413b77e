"""Benchmark (issue 13 §4): the anonymous monthly statistics over 100,000 contracts.

Run ``python bench/stats_bench.py [--db sqlite|postgres] [N]`` (default SQLite, 100,000;
``make bench`` runs both); prints one JSON object. A fresh database — a SQLite file, or on
PostgreSQL a database of its own on the server of ``SCMS_BENCH_POSTGRES_URL`` (default
postgresql+asyncpg://postgres@127.0.0.1:5432/postgres), dropped at the end — gets N
contracts of N/5 customers (four plans, a third with ``soc`` and its option period, some
new or ending in the month), one invoice of three lines per contract for the month and a
payment for half of them. On PostgreSQL the seed is then ``VACUUM ANALYZE``d, as
autovacuum does to a table after that many inserts: the planner's statistics and the
visibility map (for index-only scans) of a database in service, not of one loaded a
second ago. Then ``app.stats.service.monthly`` — the whole of ``GET /v1/stats/monthly``
but the HTTP round trip — runs five times. Target: the median at most 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import insert
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.contracts.models import Contract, ContractOption  # noqa: E402
from app.core.database import Database, create_engine  # noqa: E402
from app.core.migrations import upgrade  # noqa: E402
from app.customers.models import Customer  # noqa: E402
from app.invoices.models import Invoice, InvoiceLine, Payment  # noqa: E402
from app.pricing.calendar import Month  # noqa: E402
from app.stats import service  # noqa: E402

NOW = datetime(2026, 11, 24, 1, tzinfo=UTC)
PLANS = ("foundation-essential", "foundation-advantage", "complete-essential", "complete-advantage")
BATCH = 5_000
TARGET_SECONDS = 1.0
DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


def _contract(n: int) -> dict[str, Any]:
    start = date(2026, 10, 1 + n % 28) if n % 10 == 0 else date(2025, 1 + n % 12, 15)
    end = date(2026, 10, 20) if n % 17 == 0 else None
    return {
        "id": f"ctr_{n:026d}",
        "customer_id": f"cus_{n % (TOTAL // 5):026d}",
        "status": "terminated" if end else "active",
        "plan": PLANS[n % 4],
        "license_ids": 10 + n % 200,
        "soc": n % 3 == 0,
        "reserved_ip": False,
        "ad_integration": n % 7 == 0,
        "onboarding_kind": "simple",
        "received_on": date(2024, 12, 1),
        "arrival_seq": n,
        "planned_installation_on": date(2025, 1, 1),
        "administrators": [],
        "service_start_on": start,
        "termination_effective_on": end,
        "version": 1,
        "renewals_recorded": 0,
        "created_at": NOW,
        "updated_at": NOW,
    }


def _invoice(n: int) -> dict[str, Any]:
    return {
        "id": f"inv_{n:026d}",
        "number": f"INV-2026-{n:07d}",
        "contract_id": f"ctr_{n:026d}",
        "customer_id": f"cus_{n % (TOTAL // 5):026d}",
        "kind": "monthly",
        "month": "2026-10",
        "monthly_month": "2026-10",
        "issued_on": date(2026, 11, 1),
        "due_on": date(2026, 11, 10) if n % 5 == 0 else date(2026, 11, 30),
        "recipient_name": "x",
        "issuer_name": "x",
        "issuer_registration_number": "T0000000000000",
        "tax_rate_percent": "10",
        "taxable_subtotal": 93_000,
        "tax": 9_300,
        "non_taxable_subtotal": 5_000,
        "total": 107_300,
        "amount_paid": 107_300 if n % 2 else 0,
        "status": "paid" if n % 2 else "issued",
        "created_at": NOW,
    }


def _lines(n: int) -> list[dict[str, Any]]:
    items = [("basic", 50_000, True), (PLANS[n % 4], 43_000, True), ("surcharge", 5_000, False)]
    return [
        {
            "invoice_id": f"inv_{n:026d}",
            "position": i,
            "item": item,
            "description": item,
            "quantity": 1,
            "unit_price": amount,
            "amount": amount,
            "taxable": taxable,
            "rule": "R-CHG-1",
        }
        for i, (item, amount, taxable) in enumerate(items, start=1)
    ]


TOTAL = 100_000


async def _seed(database: Database, total: int) -> None:
    customers = [
        {
            "id": f"cus_{n:026d}",
            "name": f"株式会社{n}",
            "billing_name": f"株式会社{n}",
            "email": f"b{n}@example.co.jp",
            "version": 1,
            "created_at": NOW,
            "updated_at": NOW,
        }
        for n in range(total // 5)
    ]
    async with database.engine.begin() as conn:
        for i in range(0, len(customers), BATCH):
            await conn.execute(insert(Customer), customers[i : i + BATCH])
        for first in range(0, total, BATCH):
            ns = range(first, min(first + BATCH, total))
            await conn.execute(insert(Contract), [_contract(n) for n in ns])
            socs = [
                {
                    "id": f"opt_{n:026d}",
                    "contract_id": f"ctr_{n:026d}",
                    "option": "soc",
                    "starts_on": _contract(n)["service_start_on"],
                }
                for n in ns
                if n % 3 == 0
            ]
            await conn.execute(insert(ContractOption), socs)
            await conn.execute(insert(Invoice), [_invoice(n) for n in ns])
            await conn.execute(insert(InvoiceLine), [line for n in ns for line in _lines(n)])
            payments = [
                {
                    "id": f"pay_{n:026d}",
                    "invoice_id": f"inv_{n:026d}",
                    "paid_on": date(2026, 10, 31),
                    "amount": 107_300,
                    "created_by": "key_bench",
                    "created_at": NOW,
                }
                for n in ns
                if n % 2
            ]
            await conn.execute(insert(Payment), payments)


async def _vacuum_analyze(url: str) -> None:
    # VACUUM cannot run in a transaction: a plain asyncpg connection, autocommit.
    conn = await asyncpg.connect(_dsn(url))
    try:
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


async def run(url: str, kind: str) -> dict[str, Any]:
    await asyncio.to_thread(upgrade, url)
    database = Database(create_engine(url, pool_size=1))
    try:
        began = time.perf_counter()
        await _seed(database, TOTAL)
        if kind == "postgres":
            await _vacuum_analyze(url)
        seeded = time.perf_counter() - began
        timings = []
        for _ in range(5):
            async with database.sessionmaker() as session:
                began = time.perf_counter()
                stats = await service.monthly(
                    session, Month(2026, 10), today=date(2026, 11, 24), min_customers=3
                )
                timings.append(time.perf_counter() - began)
    finally:
        await database.dispose()
    median = statistics.median(timings)
    return {
        "bench": "stats_monthly",
        "database": kind,
        "contracts": TOTAL,
        "seed_seconds": round(seeded, 1),
        "median_seconds": round(median, 3),
        "max_seconds": round(max(timings), 3),
        "active": stats.contracts.total.active.value,
        "target_seconds": TARGET_SECONDS,
        "ok": median <= TARGET_SECONDS,
    }


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def main(kind: str) -> dict[str, Any]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            return await run(f"sqlite+aiosqlite:///{tmp}/stats.db", kind)
    server = os.environ.get("SCMS_BENCH_POSTGRES_URL", DEFAULT_URL)
    name = f"scms_stats_bench_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(_dsn(server))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            url = make_url(server).set(database=name).render_as_string(hide_password=False)
            return await run(url, kind)
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=("postgres", "sqlite"), default="sqlite")
    parser.add_argument("contracts", nargs="?", type=int, default=100_000)
    args = parser.parse_args()
    TOTAL = args.contracts
    print(json.dumps(asyncio.run(main(args.db))))
