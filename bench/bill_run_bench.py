"""Benchmark: a full bill run on PostgreSQL (R-INV-1, R-INV-3). Prints one JSON object.

``python bench/bill_run_bench.py`` (``make bench``). Creates its own database on the
server of ``SCMS_BENCH_POSTGRES_URL`` (default postgresql+asyncpg://postgres@127.0.0.1:5432/test),
seeds ``BENCH_CONTRACTS`` (100,000) contracts billing in last month (bench/bill_run_seed.py),
then measures:

- ``first_run``: a full bill run in a process of its own (wall time inside the process,
  and its peak RSS); then checks the result: one invoice per contract, gapless numbers,
  lines adding up to the subtotals, tax once per invoice, every due charge stamped;
- ``raw_copy``: COPY of the very same invoice and line rows into empty copies of the
  tables (same indexes), no logic: the floor; ``ratio`` = first_run / raw_copy;
- ``rerun``: the same month again (creates nothing), and its share of the first run;
- ``two_runners``: the invoices removed, two ``scms bill-run`` processes started together:
  exactly one invoice per contract and gapless numbers.

The database is dropped at the end.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
from bill_run_seed import CONTRACTS, pick_month, seed  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from app.pricing.calendar import Month  # noqa: E402

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
TARGETS = {"first_run_seconds": 25.0, "peak_rss_mb": 300.0, "ratio": 5.0, "rerun_share": 0.10}


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


# --- measuring ---------------------------------------------------------------------------


def _worker(url: str, month: str) -> None:
    """One bill run in this process: print its wall time, peak RSS and counters."""
    from app.core.clock import SystemClock
    from app.core.database import Database, create_engine
    from app.core.settings import Settings
    from app.invoices.billing_runs import bill_month

    async def main() -> dict[str, Any]:
        settings = Settings(database_url=url, log_level="WARNING")
        database = Database(create_engine(url, pool_size=2))
        try:
            started = time.perf_counter()
            run = await bill_month(
                database,
                Month.parse(month),
                dry_run=False,
                settings=settings,
                clock=SystemClock(),
                created_by="bench",
            )
            seconds = time.perf_counter() - started
        finally:
            await database.dispose()
        return {
            "seconds": round(seconds, 3),
            "status": run.status,
            "created": run.invoices_created,
            "existing": run.invoices_existing,
            "failed": run.failed,
            "error": run.error,
        }

    result = asyncio.run(main())
    result["peak_rss_mb"] = _peak_rss_mb()
    print(json.dumps(result))


def _peak_rss_mb() -> float:
    """This process's peak RSS since its exec (VmHWM). Not ``ru_maxrss``: on Linux that
    keeps the high-water mark of the forked parent image across exec."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _run_worker(url: str, month: Month) -> dict[str, Any]:
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, __file__, "--worker", url, str(month)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    result["process_seconds"] = round(time.perf_counter() - started, 3)
    return result


async def _check(conn: asyncpg.Connection, month: Month, expected: int) -> dict[str, Any]:
    """Independent SQL checks of the invoices of ``month``."""
    facts = await conn.fetchrow(
        """
        SELECT count(*) AS invoices,
               count(DISTINCT contract_id) AS contracts,
               min(split_part(number, '-', 3)::int) AS first_number,
               max(split_part(number, '-', 3)::int) AS last_number,
               count(*) FILTER (WHERE tax <> floor(taxable_subtotal * 0.1)) AS bad_tax,
               count(*) FILTER (WHERE total <> taxable_subtotal + tax + non_taxable_subtotal)
                   AS bad_total
        FROM invoices WHERE monthly_month = $1
        """,
        str(month),
    )
    bad_sums = await conn.fetchval(
        """
        SELECT count(*) FROM invoices i JOIN (
            SELECT invoice_id,
                   sum(amount) FILTER (WHERE taxable) AS taxable,
                   sum(amount) FILTER (WHERE NOT taxable) AS non_taxable
            FROM invoice_lines GROUP BY invoice_id) l ON l.invoice_id = i.id
        WHERE i.taxable_subtotal <> coalesce(l.taxable, 0)
           OR i.non_taxable_subtotal <> coalesce(l.non_taxable, 0)
        """
    )
    # Each ledger charge bills on the invoice of its own month, none earlier or later.
    unbilled_due = await conn.fetchval(
        "SELECT count(*) FROM charges WHERE invoice_id IS NULL AND month = $1", str(month)
    )
    billed_early = await conn.fetchval(
        "SELECT count(*) FROM charges WHERE invoice_id IS NOT NULL AND month <> $1", str(month)
    )
    lines = await conn.fetchval("SELECT count(*) FROM invoice_lines")
    gapless = facts["invoices"] == 0 or (
        facts["first_number"] == 1 and facts["last_number"] == facts["invoices"]
    )
    return {
        "invoices": facts["invoices"],
        "lines": lines,
        "ok": (
            facts["invoices"] == expected
            and facts["contracts"] == expected
            and gapless
            and facts["bad_tax"] == 0
            and facts["bad_total"] == 0
            and bad_sums == 0
            and unbilled_due == 0
            and billed_early == 0
        ),
        "gapless_numbers": gapless,
        "unbilled_due_charges": unbilled_due,
    }


async def _raw_copy(conn: asyncpg.Connection) -> dict[str, Any]:
    """The floor: COPY the same rows, no logic, into empty copies of the two tables.

    Measured twice: copies with the same indexes and the same foreign keys as the real
    tables (what any writer of these rows pays), and copies with the indexes only.
    """
    invoices = [tuple(r) for r in await conn.fetch("SELECT * FROM invoices")]
    lines = [tuple(r) for r in await conn.fetch("SELECT * FROM invoice_lines")]
    result: dict[str, Any] = {"invoices": len(invoices), "lines": len(lines)}
    for label, foreign_keys in (("seconds", True), ("seconds_without_foreign_keys", False)):
        await conn.execute("CREATE TABLE raw_invoices (LIKE invoices INCLUDING ALL)")
        await conn.execute("CREATE TABLE raw_invoice_lines (LIKE invoice_lines INCLUDING ALL)")
        if foreign_keys:
            await conn.execute(
                "ALTER TABLE raw_invoices"
                " ADD FOREIGN KEY (contract_id) REFERENCES contracts (id),"
                " ADD FOREIGN KEY (customer_id) REFERENCES customers (id)"
            )
            await conn.execute(
                "ALTER TABLE raw_invoice_lines"
                " ADD FOREIGN KEY (invoice_id) REFERENCES raw_invoices (id)"
            )
        started = time.perf_counter()
        async with conn.transaction():
            await conn.copy_records_to_table("raw_invoices", records=invoices)
            await conn.copy_records_to_table("raw_invoice_lines", records=lines)
        result[label] = round(time.perf_counter() - started, 3)
        await conn.execute("DROP TABLE raw_invoice_lines, raw_invoices")
    return result


async def _reset(conn: asyncpg.Connection) -> None:
    """Remove the invoices again (benchmark only: without its triggers, since nothing
    indexes charges.invoice_id and checking each deleted invoice would scan the ledger)."""
    await conn.execute("SET session_replication_role = replica")
    await conn.execute("UPDATE charges SET invoice_id = NULL, billed_at = NULL")
    for table in ("invoice_lines", "invoices", "number_counters"):
        await conn.execute(f"DELETE FROM {table}")
    await conn.execute("SET session_replication_role = DEFAULT")
    await conn.execute("VACUUM ANALYZE")


def _two_runners(url: str, month: Month) -> dict[str, Any]:
    env = {**os.environ, "SCMS_DATABASE_URL": url, "SCMS_LOG_LEVEL": "WARNING"}
    command = [sys.executable, "-m", "app.cli.main", "bill-run", "--month", str(month)]
    started = time.perf_counter()
    runners = [
        subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    errors = [r.communicate()[1] for r in runners]
    seconds = time.perf_counter() - started
    codes = [r.returncode for r in runners]
    return {
        "seconds": round(seconds, 3),
        "exit_codes": codes,
        "errors": [e[-500:] for e, c in zip(errors, codes, strict=True) if c],
    }


async def main() -> dict[str, Any]:
    from app.core.migrations import upgrade

    server = os.environ.get("SCMS_BENCH_POSTGRES_URL", DEFAULT_URL)
    name = f"scms_bench_{os.getpid()}_{secrets.token_hex(3)}"
    admin = await asyncpg.connect(_dsn(server))
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = _with_database(server, name)
    month = pick_month()
    result: dict[str, Any] = {"benchmark": "bill_run", "contracts": CONTRACTS, "month": str(month)}
    try:
        await asyncio.to_thread(upgrade, url)
        conn = await asyncpg.connect(_dsn(url))
        try:
            started = time.perf_counter()
            result["seeded"] = await seed(conn, month)
            result["seed_seconds"] = round(time.perf_counter() - started, 1)
            first = await asyncio.to_thread(_run_worker, url, month)
            result["first_run"] = first
            result["first_run"]["check"] = await _check(conn, month, CONTRACTS)
            raw = await _raw_copy(conn)
            result["raw_copy"] = raw
            result["ratio"] = round(first["seconds"] / raw["seconds"], 2)
            result["ratio_without_foreign_keys"] = round(
                first["seconds"] / raw["seconds_without_foreign_keys"], 2
            )
            rerun = await asyncio.to_thread(_run_worker, url, month)
            result["rerun"] = rerun
            result["rerun_share"] = round(rerun["seconds"] / first["seconds"], 3)
            await _reset(conn)
            result["two_runners"] = await asyncio.to_thread(_two_runners, url, month)
            result["two_runners"]["check"] = await _check(conn, month, CONTRACTS)
        finally:
            await conn.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    result["targets"] = TARGETS
    result["ok"] = {
        "correct": result["first_run"]["check"]["ok"] and result["two_runners"]["check"]["ok"],
        "first_run_seconds": result["first_run"]["seconds"] <= TARGETS["first_run_seconds"],
        "peak_rss_mb": result["first_run"]["peak_rss_mb"] <= TARGETS["peak_rss_mb"],
        "ratio": result["ratio"] <= TARGETS["ratio"],
        "rerun_share": result["rerun_share"] <= TARGETS["rerun_share"],
    }
    return result


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        _worker(sys.argv[2], sys.argv[3])
    else:
        print(json.dumps(asyncio.run(main()), ensure_ascii=False))
