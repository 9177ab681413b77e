"""Benchmark (issue 13 §3): the operation log's NDJSON export of 1,000,000 entries.

Run ``python bench/audit_export_bench.py [N]`` (default 1,000,000); prints one JSON object.
A child process fills a fresh SQLite database with N chained entries (a customer change
each: a before and an after of ten fields); another child serves
``GET /v1/audit-events/export`` through the real application (ASGI, called directly, the
body counted and dropped as a client would read it) and reports its resident set
(``ru_maxrss``): before the request (the application imported and built: about 82 MiB on
CPython 3.11 with FastAPI, SQLAlchemy and pydantic; the PDF, e-invoice XML, Alembic and
httpx stacks are imported only by the code that uses them) and at its peak. Target: the
whole process at most 100 MiB at its peak (``rss_peak_mib``: what the issue's "at most
100 MB RSS" bounds), and the export itself (``rss_export_mib``, peak minus before)
constant in N: within a few MiB of the same run's export of 10,000 entries
(``reference_rss_export_mib``).
"""

from __future__ import annotations

import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import MutableMapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TARGET_MIB = 100
REFERENCE_ENTRIES = 10_000
# Allocator noise between two runs of the same export (a few MiB), not growth with N.
GROWTH_SLACK_MIB = 5
ADMIN_KEY = "bench-admin-key-0123456789"
BATCH = 5_000


def _snapshot(n: int, phone: str | None) -> dict[str, Any]:
    return {
        "id": f"cus_{n:026d}",
        "name": f"株式会社ベンチマーク{n}",
        "billing_name": f"株式会社ベンチマーク{n} 経理部",
        "email": f"billing{n}@example.co.jp",
        "phone": phone,
        "postal_address": "東京都千代田区丸の内一丁目1番1号",
        "external_ref": f"CRM-{n:08d}",
        "version": 2 if phone else 1,
        "created_at": "2026-11-01T01:00:00+00:00",
        "updated_at": "2026-11-24T01:00:00+00:00",
    }


async def _seed(url: str, count: int) -> None:
    from sqlalchemy import insert, update

    from app.audit.chain import GENESIS_HASH, entry_hash
    from app.audit.models import AuditChainHead, AuditRecord
    from app.core.database import create_engine
    from app.core.migrations import upgrade

    await asyncio.to_thread(upgrade, url)
    engine = create_engine(url, pool_size=1)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    prev = GENESIS_HASH
    try:
        for first in range(1, count + 1, BATCH):
            rows = []
            for seq in range(first, min(first + BATCH, count + 1)):
                row: dict[str, Any] = {
                    "id": f"aud_{seq:026d}",
                    "seq": seq,
                    "occurred_at": start + timedelta(seconds=seq),
                    "actor_key_id": "key_bench",
                    "action": "customers.update",
                    "resource_type": "customer",
                    "resource_id": f"cus_{seq % 5000:026d}",
                    "customer_id": f"cus_{seq % 5000:026d}",
                    "before": _snapshot(seq, None),
                    "after": _snapshot(seq, "03-1234-5678"),
                    "request_id": f"req{seq:029d}",
                    "prev_hash": prev,
                }
                row["hash"] = prev = entry_hash(**row)
                rows.append(row)
            async with engine.begin() as conn:
                await conn.execute(insert(AuditRecord), rows)
        async with engine.begin() as conn:
            await conn.execute(update(AuditChainHead).values(last_seq=count, last_hash=prev))
    finally:
        await engine.dispose()


async def _export(url: str) -> dict[str, Any]:
    from app.core.database import Database, engine_from_settings
    from app.core.settings import Settings
    from app.main import create_app

    settings = Settings(database_url=url, admin_api_key=ADMIN_KEY, log_level="WARNING")
    database = Database(engine_from_settings(settings))
    app = create_app(settings, database=database)
    received = {"bytes": 0, "lines": 0, "status": 0}
    sent_request = False

    async def receive() -> dict[str, Any]:
        nonlocal sent_request
        if not sent_request:
            sent_request = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()  # the client stays connected
        return {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            received["status"] = message["status"]
        elif message["type"] == "http.response.body":
            body = message.get("body", b"")
            received["bytes"] += len(body)
            received["lines"] += body.count(b"\n")

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/v1/audit-events/export",
        "raw_path": b"/v1/audit-events/export",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"bench"), (b"authorization", f"Bearer {ADMIN_KEY}".encode())],
        "client": ("127.0.0.1", 1),
        "server": ("bench", 80),
    }
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    began = time.perf_counter()
    await app(scope, receive, send)
    seconds = time.perf_counter() - began
    await database.dispose()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        **received,
        "seconds": round(seconds, 1),
        "entries_per_second": round(received["lines"] / seconds) if seconds else None,
        "rss_before_mib": round(before, 1),
        "rss_peak_mib": round(peak, 1),
        "rss_export_mib": round(peak - before, 1),
    }


def _measure(count: int) -> tuple[float, dict[str, Any]]:
    """Seed ``count`` entries and export them, each in a process of its own."""
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/audit.db"
        here = str(Path(__file__).resolve())
        began = time.perf_counter()
        subprocess.run([sys.executable, here, "--seed", url, str(count)], check=True)
        seeded = time.perf_counter() - began
        out = subprocess.run(
            [sys.executable, here, "--export", url], check=True, capture_output=True, text=True
        )
        result: dict[str, Any] = json.loads(out.stdout)
    return seeded, result


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    # Constant in N: the same run's export of REFERENCE_ENTRIES is the yardstick.
    _, reference = _measure(REFERENCE_ENTRIES)
    seeded, result = _measure(count)
    print(
        json.dumps(
            {
                "bench": "audit_export",
                "entries": count,
                "seed_seconds": round(seeded, 1),
                **result,
                "reference_entries": REFERENCE_ENTRIES,
                "reference_rss_peak_mib": reference["rss_peak_mib"],
                "reference_rss_export_mib": reference["rss_export_mib"],
                "target_mib": TARGET_MIB,
                "ok": result["status"] == 200
                and result["lines"] == count
                and result["rss_peak_mib"] <= TARGET_MIB
                and result["rss_export_mib"] <= reference["rss_export_mib"] + GROWTH_SLACK_MIB,
            }
        )
    )


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--seed":
        asyncio.run(_seed(sys.argv[2], int(sys.argv[3])))
    elif len(sys.argv) == 3 and sys.argv[1] == "--export":
        print(json.dumps(asyncio.run(_export(sys.argv[2]))))
    else:
        main()
