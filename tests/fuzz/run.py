"""``make fuzz`` (issue 9 §5): schemathesis against the real served app on a seeded database.

    .venv/bin/python -m tests.fuzz.run --db sqlite --max-time 150
    .venv/bin/python -m tests.fuzz.run --db postgres --max-time 150

Each run makes a fresh database (SQLite in a temp folder, or a new PostgreSQL database on
SCMS_TEST_POSTGRES_URL, dropped afterwards), migrates it, seeds it through the API
(tests/fuzz/seed.py) on a fixed clock, serves the app with uvicorn on a free local port
and runs the schemathesis CLI against its /openapi.json with an admin key, the seeded ids
aimed at by tests/fuzz/hooks.py. The exit code is schemathesis's: 0 when every check
held for every generated request.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sys
import tempfile
from datetime import date
from pathlib import Path

import httpx
import uvicorn

from app.api_keys.schemas import ApiKeyCreate
from app.api_keys.service import create_key
from app.auth.roles import Role
from app.core.clock import FixedClock
from app.core.database import Database, create_engine
from app.core.migrations import upgrade
from app.core.settings import Settings
from app.main import create_app
from tests.fuzz.seed import seed
from tests.support.databases import fresh_database

# The day the seeded data and the served app live on (as the tests' TODAY).
TODAY = date(2026, 11, 24)
CHECKS = (
    "not_a_server_error",
    "response_schema_conformance",
    "status_code_conformance",
    "content_type_conformance",
)
HOOKS = Path(__file__).with_name("hooks.py")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _say(message: str) -> None:
    print(message, flush=True)


async def fuzz(db: str, max_time: int, checks: list[str], seed_value: int, workers: int) -> int:
    clock = FixedClock.on(TODAY)
    with tempfile.TemporaryDirectory(prefix="scms-fuzz-") as folder:
        async with fresh_database(db, Path(folder)) as url:
            await asyncio.to_thread(upgrade, url)
            database = Database(create_engine(url, pool_size=5))
            try:
                async with database.sessionmaker.begin() as session:
                    _, secret = await create_key(
                        session, ApiKeyCreate(name="fuzz admin", role=Role.ADMIN), clock
                    )
                settings = Settings(database_url=url, log_level="WARNING")
                app = create_app(settings, database=database, clock=clock)
                admin = {"Authorization": f"Bearer {secret}"}
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url="http://seed") as client:
                    ids = await seed(client, admin, _say)
                _say("seeded: " + ", ".join(f"{len(v)} {k}" for k, v in ids.items()))
                ids_file = Path(folder) / "ids.json"
                ids_file.write_text(json.dumps(ids), encoding="utf-8")

                port = _free_port()
                server = uvicorn.Server(
                    uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
                )
                serving = asyncio.create_task(server.serve())
                while not server.started:
                    await asyncio.sleep(0.05)
                command = [
                    str(Path(sys.executable).with_name("schemathesis")),
                    "run",
                    f"http://127.0.0.1:{port}/openapi.json",
                    "--checks",
                    ",".join(checks),
                    "--max-time",
                    str(max_time),
                    "--workers",
                    str(workers),
                    "--seed",
                    str(seed_value),
                    "--header",
                    f"Authorization: Bearer {secret}",
                    "--request-timeout",
                    "30",
                    "--suppress-health-check",
                    "all",
                ]
                env = {
                    **os.environ,
                    "SCHEMATHESIS_HOOKS": str(HOOKS),
                    "SCMS_FUZZ_IDS": str(ids_file),
                }
                _say(f"fuzzing {db} for {max_time} s: checks {', '.join(checks)}")
                # In the temp folder: schemathesis leaves its cache in the working directory.
                process = await asyncio.create_subprocess_exec(*command, env=env, cwd=folder)
                code = await process.wait()
                server.should_exit = True
                await serving
            finally:
                await database.dispose()
    return code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--max-time", type=int, default=150, help="seconds of fuzzing")
    parser.add_argument("--checks", default=",".join(CHECKS))
    parser.add_argument("--seed", type=int, default=9, help="hypothesis seed (reproducible)")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    checks = [c for c in args.checks.split(",") if c]
    sys.exit(asyncio.run(fuzz(args.db, args.max_time, checks, args.seed, args.workers)))


if __name__ == "__main__":
    main()
