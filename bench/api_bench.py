"""Benchmark: the API beside a bare reference, in the same run (issue 11). JSON lines.

``python bench/api_bench.py`` (``make bench``). On the PostgreSQL server of
``SCMS_BENCH_POSTGRES_URL`` (default postgresql+asyncpg://postgres@127.0.0.1:5432/postgres)
it creates a database of its own, migrates it, seeds ``BENCH_CONTRACTS`` (20,000)
contracts with their histories (licence changes, options, milestones, an inspection,
ledger charges: bench/bill_run_seed.py, by COPY) and bills last month (one invoice each).
Then it starts ``scms serve`` and, beside it, bench/reference_app.py (Starlette + asyncpg:
one SELECT of the contract row, one INSERT of a customer row), each with
``BENCH_WORKERS`` (1) uvicorn workers on uvloop + httptools, waits until the serve's
embedded worker has finished its start-up jobs (today's roll of the seeded contracts, which
a deployment runs once a day: measuring beside it would measure the catch-up), and drives
both with the same wrk load (``BENCH_SECONDS`` 5 s, 2 threads, 64 connections,
keep-alive; ids drawn from 1,000 random contracts), one pair right after the other. Each
line compares a figure with its reference and the issue's target:

- ``GET /v1/contracts/{id}``: throughput >= 0.35 x the reference's read, p99 <= 3 x its p99;
- ``GET /v1/contracts?limit=50``, ``GET /v1/invoices?limit=50``: >= 0.1 x the reference's
  single read;
- ``POST /v1/quotes``: >= 0.5 x the service's own ``GET /healthz`` (the framework floor);
- ``POST /v1/customers`` (with its audit record): >= 0.3 x the reference's insert;
- SQLite: 64 concurrent readers of ``GET /v1/contracts/{id}`` without errors, p99 <= 4 x
  the p99 of one reader (the same seed, in a SQLite file).

wrk comes from Debian (``apt-get install -y wrk``). The databases are dropped at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("BENCH_CONTRACTS", "20000")

import asyncpg  # noqa: E402
from bill_run_seed import CONTRACTS, NOW, pick_month, seed, seed_rows  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from app.contracts.states import MILESTONES  # noqa: E402
from app.pricing.calendar import Month  # noqa: E402

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
SECONDS = int(os.environ.get("BENCH_SECONDS", "5"))
WARM_UP_SECONDS = 1
WORKERS = int(os.environ.get("BENCH_WORKERS", "1"))
THREADS, CONNECTIONS = 2, 64
BIN = Path(sys.executable).parent
TARGETS = {
    "GET /v1/contracts/{id}": {"ratio": 0.35, "p99_ratio": 3.0},
    "GET /v1/contracts?limit=50": {"ratio": 0.1},
    "GET /v1/invoices?limit=50": {"ratio": 0.1},
    "POST /v1/quotes": {"ratio": 0.5},
    "POST /v1/customers": {"ratio": 0.3},
    "SQLite GET /v1/contracts/{id}": {"p99_ratio": 4.0},
}
QUOTE = {"plan": "foundation-essential", "license_ids": 50, "onboarding_kind": "simple"}
CUSTOMER = {
    "name": "株式会社ベンチ",
    "billing_name": "株式会社ベンチ 経理部",
    "email": "b@example.jp",
}


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


# --- seeding -------------------------------------------------------------------------------


def onboarding_rows(contracts: list[tuple[Any, ...]]) -> dict[str, tuple[list[str], list[Any]]]:
    """Every contract's milestones done and its accepted inspection (R-LC-5)."""
    milestones: list[tuple[Any, ...]] = []
    inspections: list[tuple[Any, ...]] = []
    for contract in contracts:
        contract_id, kind, start = contract[0], contract[8], contract[15]
        for n, key in enumerate(MILESTONES[kind]):
            done_on = start - timedelta(days=20 - n)
            milestones.append((f"mil_{contract_id[4:]}_{n}", contract_id, key, done_on, "b", NOW))
        inspections.append(
            (f"ins_{contract_id[4:]}", contract_id, start, "accepted", start, "b", NOW)
        )
    return {
        "onboarding_milestones": (
            ["id", "contract_id", "key", "done_on", "recorded_by", "recorded_at"],
            milestones,
        ),
        "onboarding_inspections": (
            [
                "id",
                "contract_id",
                "inspected_on",
                "result",
                "certificate_on",
                "recorded_by",
                "recorded_at",
            ],
            inspections,
        ),
    }


async def seed_postgres(url: str, month: Month) -> dict[str, int]:
    conn = await asyncpg.connect(_dsn(url))
    try:
        counts = await seed(conn, month)
        contracts = seed_rows(month)["contracts"][1]
        async with conn.transaction():
            for table, (columns, records) in onboarding_rows(contracts).items():
                await conn.copy_records_to_table(table, records=records, columns=columns)
                counts[table] = len(records)
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()
    return counts


def seed_sqlite(url: str, month: Month) -> None:
    """The same rows into a SQLite file, through SQLAlchemy Core (types converted)."""
    from sqlalchemy import create_engine

    import app.models  # noqa: F401  (every table on the metadata)
    from app.core.models import Base

    rows = seed_rows(month)
    rows.update(onboarding_rows(rows["contracts"][1]))
    engine = create_engine(url.replace("+aiosqlite", ""))
    with engine.begin() as conn:
        for table, (columns, records) in rows.items():
            dicts = [dict(zip(columns, r, strict=True)) for r in records]
            if table == "contracts":
                for d in dicts:
                    d["administrators"] = []
            conn.execute(Base.metadata.tables[table].insert(), dicts)
    engine.dispose()


def scms(url: str, *args: str) -> str:
    env = {**os.environ, "SCMS_DATABASE_URL": url, "SCMS_LOG_LEVEL": "WARNING"}
    done = subprocess.run(
        [str(BIN / "scms"), *args], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


def api_key(url: str) -> str:
    return scms(url, "api-keys", "create", "--name", "bench", "--role", "admin").splitlines()[-1]


# --- servers and load -------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def serving(command: list[str], env: dict[str, str], port: int) -> Iterator[str]:
    base = f"http://127.0.0.1:{port}"
    # The server's output goes to a file: a pipe nobody reads would fill and stall it.
    log = Path(tempfile.gettempdir()) / f"api_bench_{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, env={**os.environ, **env}, stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{command[0]} did not start: see {log}") from None
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        if process.returncode not in (0, -15):
            print(log.read_text(errors="replace")[-2000:], file=sys.stderr)
        log.unlink(missing_ok=True)


async def _jobs_pending(url: str) -> int:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            pending = await conn.scalar(
                text("SELECT count(*) FROM jobs WHERE state IN ('queued', 'running')")
            )
            done = await conn.scalar(
                text("SELECT count(*) FROM jobs WHERE kind = 'daily_roll' AND state = 'done'")
            )
    finally:
        await engine.dispose()
    return int(pending or 0) + (0 if done else 1)


def quiesce(url: str, *, within: float = 600) -> float:
    """Wait until the serve's embedded worker has done what it does once at start (today's
    roll over the seeded contracts): the loads measure the steady state, not a catch-up
    that a deployment runs once a day. Returns how long that took."""
    started = time.monotonic()
    while asyncio.run(_jobs_pending(url)):
        if time.monotonic() - started > within:
            raise RuntimeError("the worker's start-up jobs did not finish")
        time.sleep(0.5)
    return round(time.monotonic() - started, 1)


async def vacuum(url: str) -> None:
    """After the start-up roll's writes (every contract's day), so that autovacuum does
    not take its turn on the machine during the first loads."""
    conn = await asyncpg.connect(_dsn(url))
    try:
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


def settle(base: str, *, within: float = 60) -> None:
    """Wait until the server has worked off the last load's backlog (requests wrk gave up
    on are still being answered): /healthz answers within half a second."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        started = time.monotonic()
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=5):
                if time.monotonic() - started < 0.5:
                    return
        except OSError:
            pass
        time.sleep(0.5)


_LUA = """
local paths = {%(paths)s}
wrk.method = "%(method)s"
%(body)s
wrk.headers["Content-Type"] = "application/json"
%(auth)s
request = function()
  return wrk.format(nil, paths[math.random(#paths)])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %%d, "duration_us": %%d, "errors": %%d, "status_errors": %%d, ' ..
    '"p50_us": %%d, "p99_us": %%d}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99)))
end
"""


def wrk(
    base: str,
    paths: list[str],
    *,
    method: str = "GET",
    body: Any = None,
    key: str | None = None,
    connections: int = CONNECTIONS,
) -> dict[str, Any]:
    # The Lua string keeps UTF-8 as it is (LuaJIT knows no \u escapes).
    text = json.dumps(json.dumps(body, ensure_ascii=False), ensure_ascii=False)
    script = _LUA % {
        "paths": ", ".join(json.dumps(p) for p in paths),
        "method": method,
        "body": f"wrk.body = {text}" if body else "",
        "auth": f'wrk.headers["Authorization"] = "Bearer {key}"' if key else "",
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    threads = min(THREADS, connections)
    try:
        out = ""
        # A second of the same load first, not counted: both servers are measured warm
        # (pooled connections open, caches as a steady load keeps them), not starting.
        for seconds in (WARM_UP_SECONDS, SECONDS):
            settle(base)
            out = subprocess.run(
                ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "-s", f.name, base],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
    finally:
        os.unlink(f.name)
    line = next(x for x in out.splitlines() if x.startswith("WRKJSON "))
    raw = json.loads(line.removeprefix("WRKJSON "))
    return {
        "rps": round(raw["requests"] / (raw["duration_us"] / 1e6), 1),
        "p50_ms": round(raw["p50_us"] / 1000, 2),
        "p99_ms": round(raw["p99_us"] / 1000, 2),
        "errors": raw["errors"] + raw["status_errors"],
        "requests": raw["requests"],
    }


def line(
    request: str, scms_figure: dict[str, Any], reference: dict[str, Any], against: str
) -> None:
    target = TARGETS.get(request, {})
    result: dict[str, Any] = {
        "benchmark": "api",
        "request": request,
        "scms": scms_figure,
        "reference": {"what": against, **reference},
        "ratio": round(scms_figure["rps"] / max(reference["rps"], 0.1), 3),
    }
    if "p99_ratio" in target:
        result["p99_ratio"] = round(scms_figure["p99_ms"] / max(reference["p99_ms"], 0.01), 2)
    result["target"] = target
    result["ok"] = (
        scms_figure["errors"] == 0
        and result["ratio"] >= target.get("ratio", 0)
        and result.get("p99_ratio", 0) <= target.get("p99_ratio", float("inf"))
    )
    print(json.dumps(result, ensure_ascii=False), flush=True)


def scms_command(port: int) -> list[str]:
    return [
        str(BIN / "scms"),
        "serve",
        "--no-migrate",
        "--port",
        str(port),
        "--workers",
        str(WORKERS),
    ]


def postgres_run(url: str, contract_ids: list[str], key: str) -> None:
    scms_port, ref_port = _free_port(), _free_port()
    reference = [
        str(BIN / "python"), "-m", "uvicorn", "bench.reference_app:app", "--port", str(ref_port),
        "--workers", str(WORKERS), "--loop", "uvloop", "--http", "httptools",
        "--log-level", "warning",
    ]  # fmt: skip
    scms_env = {"SCMS_DATABASE_URL": url, "SCMS_LOG_LEVEL": "WARNING"}
    with (
        serving(scms_command(scms_port), scms_env, scms_port) as api,
        serving(reference, {"REFERENCE_DSN": _dsn(url), "PYTHONPATH": str(ROOT)}, ref_port) as ref,
    ):
        print(json.dumps({"benchmark": "api", "start_up_jobs_seconds": quiesce(url)}), flush=True)
        asyncio.run(vacuum(url))
        reads = [f"/v1/contracts/{i}" for i in contract_ids]
        ref_read = wrk(ref, [f"/contracts/{i}" for i in contract_ids])
        line("GET /v1/contracts/{id}", wrk(api, reads, key=key), ref_read, "bare read")
        lists = ["/v1/contracts?limit=50"]
        line("GET /v1/contracts?limit=50", wrk(api, lists, key=key), ref_read, "bare read")
        invoices = ["/v1/invoices?limit=50"]
        line("GET /v1/invoices?limit=50", wrk(api, invoices, key=key), ref_read, "bare read")
        floor = wrk(api, ["/healthz"])
        line("GET /healthz", floor, wrk(ref, ["/healthz"]), "bare /healthz")
        quotes = wrk(api, ["/v1/quotes"], method="POST", body=QUOTE, key=key)
        line("POST /v1/quotes", quotes, floor, "scms GET /healthz")
        ref_insert = wrk(ref, ["/customers"], method="POST", body=CUSTOMER)
        inserts = wrk(api, ["/v1/customers"], method="POST", body=CUSTOMER, key=key)
        line("POST /v1/customers", inserts, ref_insert, "bare insert")


def sqlite_run(directory: Path, month: Month, contract_ids: list[str]) -> None:
    url = f"sqlite+aiosqlite:///{directory / 'bench.db'}"
    scms(url, "migrate")
    seed_sqlite(url, month)
    key = api_key(url)
    port = _free_port()
    env = {"SCMS_DATABASE_URL": url, "SCMS_LOG_LEVEL": "WARNING"}
    with serving(scms_command(port), env, port) as api:
        quiesce(url)
        reads = [f"/v1/contracts/{i}" for i in contract_ids]
        one = wrk(api, reads, key=key, connections=1)
        many = wrk(api, reads, key=key, connections=64)
        line("SQLite GET /v1/contracts/{id}", many, one, "one reader")


async def create_database(server: str) -> tuple[str, str]:
    name = f"scms_api_bench_{os.getpid()}_{secrets.token_hex(3)}"
    admin = await asyncpg.connect(_dsn(server))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return name, _with_database(server, name)


async def drop_database(server: str, name: str) -> None:
    admin = await asyncpg.connect(_dsn(server))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def main() -> None:
    if shutil.which("wrk") is None:
        sys.exit("api_bench: wrk is missing (apt-get install -y wrk)")
    server = os.environ.get("SCMS_BENCH_POSTGRES_URL", DEFAULT_URL)
    month = pick_month()
    contract_ids = random.Random(11).sample([f"ctr_{i:026d}" for i in range(CONTRACTS)], 1000)
    name, url = asyncio.run(create_database(server))
    try:
        scms(url, "migrate")
        started = time.perf_counter()
        seeded = asyncio.run(seed_postgres(url, month))
        scms(url, "bill-run", "--month", str(month))
        seconds = round(time.perf_counter() - started, 1)
        print(
            json.dumps({"benchmark": "api", "seeded": seeded, "seed_seconds": seconds}),
            flush=True,
        )
        postgres_run(url, contract_ids, api_key(url))
    finally:
        asyncio.run(drop_database(server, name))
    with tempfile.TemporaryDirectory() as directory:
        sqlite_run(Path(directory), month, contract_ids)


if __name__ == "__main__":
    main()
