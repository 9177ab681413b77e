"""The bill-run benchmark's data: ``BENCH_CONTRACTS`` (100,000) contracts billing in last
month, seeded with COPY (mixed plans, options, licence histories and ledger charges).

bench/bill_run_bench.py seeds with :func:`seed` and then measures; the rows are the same
on every run (a fixed random seed), only the month follows the calendar.
"""

from __future__ import annotations

import os
import random
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg  # noqa: E402

from app.core.clock import TOKYO  # noqa: E402
from app.pricing.calendar import Month, add_months  # noqa: E402

CONTRACTS = int(os.environ.get("BENCH_CONTRACTS", "100000"))
CUSTOMERS = max(1, CONTRACTS // 5)
PLANS = ("foundation-essential", "foundation-advantage", "complete-essential", "complete-advantage")
IDS = (1, 10, 11, 25, 50, 120, 300, 999, 5_000, 20_000)
NOW = datetime.now(UTC)


def pick_month() -> Month:
    """Last month (Tokyo), so that ``scms bill-run`` with the real clock accepts it."""
    return Month.of(datetime.now(TOKYO).date()) - 1


def seed_rows(month: Month) -> dict[str, tuple[list[str], list[tuple[Any, ...]]]]:
    rng = random.Random(20261124)
    customers = [
        (f"cus_{i:026d}", f"顧客 {i}", f"顧客 {i} 経理部", f"c{i}@example.jp", 1, NOW, NOW)
        for i in range(CUSTOMERS)
    ]
    contracts: list[tuple[Any, ...]] = []
    changes: list[tuple[Any, ...]] = []
    options: list[tuple[Any, ...]] = []
    charges: list[tuple[Any, ...]] = []
    first_start = date(2024, 6, 1)
    span = (month.last_day - first_start).days

    def charge(
        contract_id: str,
        kind: str,
        item: str,
        amount: int,
        taxable: bool,
        on: Month,
        rule: str,
        source: str,
        position: int = 0,
    ) -> None:
        charges.append(
            (
                f"chg_{len(charges):026d}",
                contract_id,
                kind,
                item,
                f"{item} {on}",
                1,
                amount,
                amount,
                taxable,
                str(on),
                rule,
                source,
                position,
                "bench",
                NOW,
            )
        )

    for i in range(CONTRACTS):
        contract_id = f"ctr_{i:026d}"
        start = (
            month.first_day + timedelta(days=rng.randrange(0, 28))
            if rng.random() < 0.05
            else first_start + timedelta(days=rng.randrange(0, span - 31))
        )
        ids = rng.choice(IDS)
        status, end = "active", None
        roll = rng.random()
        if roll < 0.03:
            status, end = "terminated", month.first_day + timedelta(days=rng.randrange(0, 28))
        elif roll < 0.05:
            end = month.last_day + timedelta(days=rng.randrange(30, 300))
        if end is not None and end < start:
            end = start
        soc, reserved_ip = rng.random() < 0.2, rng.random() < 0.15
        kind = rng.choice(("simple", "standard"))
        received = start - timedelta(days=60)
        contracts.append(
            (
                contract_id,
                customers[i % CUSTOMERS][0],
                status,
                rng.choice(PLANS),
                ids,
                soc,
                reserved_ip,
                False,
                kind,
                received,
                i + 1,
                start,
                "[]",
                received,
                start - timedelta(days=30),
                start,
                "contractor_request" if end else None,
                end,
                0,
                1,
                NOW,
                NOW,
            )
        )
        on = start
        for n in range(rng.choice((0, 0, 0, 1, 1, 2, 3))):
            on += timedelta(days=rng.randrange(1, 200))
            ids = max(1, min(1_000_000, ids + rng.randrange(-ids // 2, ids + 10)))
            changes.append((f"lic_{i:020d}_{n:05d}", contract_id, on, ids, ids, None, "bench", NOW))
        if soc:
            options.append((f"opt_{i:020d}_soc", contract_id, "soc", start, None))
        if reserved_ip:
            removed = add_months(start, rng.randrange(3, 30)) if rng.random() < 0.3 else None
            options.append((f"opt_{i:020d}_rip", contract_id, "reserved_ip", start, removed))
        elif rng.random() < 0.05:
            added = start + timedelta(days=rng.randrange(0, 400))
            options.append((f"opt_{i:020d}_rip", contract_id, "reserved_ip", added, None))
        if Month.of(start) == month:
            item = "onboarding-simple" if kind == "simple" else "onboarding-standard"
            price = 550_000 if kind == "simple" else 1_000_000
            charge(contract_id, "one-time", item, price, True, month, "R-CHG-3", "activation")
        if status == "terminated":
            charge(
                contract_id,
                "early-termination",
                "early-termination",
                93_000 * 5,
                False,
                month,
                "R-CHG-5",
                "termination",
            )
        if rng.random() < 0.05:
            charge(
                contract_id,
                "late-payment",
                "late-payment",
                rng.randrange(100, 9_000),
                False,
                month,
                "R-CHG-7",
                "late:x",
            )
        if rng.random() < 0.08:
            charge(
                contract_id,
                "work",
                "work",
                rng.randrange(1, 50) * 10_000,
                True,
                month,  # each charge bills on its own month's invoice (R-CHG-3)
                "R-CHG-9",
                "adhoc:1",
            )
        if rng.random() < 0.02:  # due next month: must stay unbilled
            charge(contract_id, "overage", "overage", 30_000, True, month + 1, "R-CHG-9", "adhoc:2")
    return {
        "customers": (
            ["id", "name", "billing_name", "email", "version", "updated_at", "created_at"],
            customers,
        ),
        "contracts": (
            [
                "id",
                "customer_id",
                "status",
                "plan",
                "license_ids",
                "soc",
                "reserved_ip",
                "ad_integration",
                "onboarding_kind",
                "received_on",
                "arrival_seq",
                "planned_installation_on",
                "administrators",
                "accepted_on",
                "onboarding_started_on",
                "service_start_on",
                "termination_reason",
                "termination_effective_on",
                "renewals_recorded",
                "version",
                "updated_at",
                "created_at",
            ],
            contracts,
        ),
        "licence_changes": (
            [
                "id",
                "contract_id",
                "effective_on",
                "license_ids",
                "previous_license_ids",
                "notice_on",
                "recorded_by",
                "recorded_at",
            ],
            changes,
        ),
        "contract_options": (["id", "contract_id", "option", "starts_on", "ends_on"], options),
        "charges": (
            [
                "id",
                "contract_id",
                "kind",
                "item",
                "description",
                "quantity",
                "unit_price",
                "amount",
                "taxable",
                "month",
                "rule",
                "source",
                "position",
                "created_by",
                "created_at",
            ],
            charges,
        ),
    }


async def seed(conn: asyncpg.Connection, month: Month) -> dict[str, int]:
    rows = seed_rows(month)
    async with conn.transaction():
        for table, (columns, records) in rows.items():
            await conn.copy_records_to_table(table, records=records, columns=columns)
    await conn.execute("VACUUM ANALYZE")
    return {table: len(records) for table, (_, records) in rows.items()}
