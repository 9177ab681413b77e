"""Issue 9 §7: when the database is away the API answers 503 database_unavailable with
Retry-After, a partition costs a request the timeout and no more, and the service is
back by itself within seconds of the database.

The PostgreSQL tests put a TCP proxy the test controls between the app and the test
server: ``down()`` resets every connection and refuses new ones (a crash or restart),
``partition()`` lets nothing through while keeping sockets open.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

from app.api_keys.schemas import ApiKeyCreate
from app.api_keys.service import create_key
from app.audit import log as audit_log
from app.auth.roles import Role
from app.core.clock import FixedClock
from app.core.database import Database, engine_from_settings
from app.core.migrations import upgrade
from app.core.outage import DatabaseUnavailable, is_database_unavailable
from app.core.settings import Settings
from app.invoices import billing_runs
from app.main import create_app
from app.worker.runner import Worker
from tests.support.databases import fresh_database
from tests.support.factories import apply, create_customer, customer_body
from tests.support.pg_cluster import PgCluster
from tests.support.tcp_proxy import TcpProxy

TIMEOUT = 1.0  # connect and statement timeouts of the app under test, seconds
RETRY_AFTER = 2
# A partitioned request waits for the statement timeout plus the client's 1 s backstop;
# this bound only tells "bounded" from "hangs for the partition's whole length".
PARTITION_BOUND = TIMEOUT + 1 + 1.5


@dataclass
class Outage:
    client: httpx.AsyncClient
    admin: dict[str, str]
    proxy: TcpProxy
    database: Database
    settings: Settings


def _settings(url: str) -> Settings:
    return Settings(
        database_url=url,
        admin_api_key=None,
        log_level="WARNING",
        db_connect_timeout_seconds=TIMEOUT,
        db_statement_timeout_seconds=TIMEOUT,
        db_retry_after_seconds=RETRY_AFTER,
    )


@pytest.fixture
async def outage(
    db_kind: str, database_url: str, tmp_path: Path, clock: FixedClock
) -> AsyncIterator[Outage]:
    """The app, built as the server builds it, on a fresh PostgreSQL behind a proxy."""
    if db_kind != "postgres":
        pytest.skip("the proxy stands in front of PostgreSQL")
    async with fresh_database(db_kind, tmp_path) as url:
        await asyncio.to_thread(upgrade, url)
        server = make_url(url)
        proxy = TcpProxy(server.host or "127.0.0.1", server.port or 5432)
        await proxy.start()
        settings = _settings(
            server.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        )
        database = Database(engine_from_settings(settings, pool_size=3))
        try:
            async with database.sessionmaker.begin() as session:
                _, secret = await create_key(
                    session, ApiKeyCreate(name="outage", role=Role.ADMIN), clock
                )
            app = create_app(settings, database=database, clock=clock)
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                admin = {"Authorization": f"Bearer {secret}"}
                yield Outage(client, admin, proxy, database, settings)
        finally:
            await proxy.up()
            await database.dispose()
            await proxy.close()


def _assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == str(RETRY_AFTER)
    body = response.json()
    assert body["code"] == "database_unavailable"
    assert body["status"] == 503


async def _until_ok(outage: Outage, path: str, within: float = 10.0) -> float:
    """Seconds until ``path`` answers 200 again; fails after ``within``."""
    started = time.monotonic()
    while True:
        response = await outage.client.get(path, headers=outage.admin)
        if response.status_code == 200:
            return time.monotonic() - started
        assert response.status_code == 503, response.text
        assert time.monotonic() - started < within, f"{path} still {response.status_code}"
        await asyncio.sleep(0.1)


@pytest.mark.postgres_only
async def test_issue_9_s7_database_down_is_503_with_retry_after_and_recovers(
    outage: Outage,
) -> None:
    assert (await outage.client.get("/v1/api-keys", headers=outage.admin)).status_code == 200

    await outage.proxy.down()
    # The pooled connection was reset under it, then new ones are refused: 503 both times.
    for _ in range(3):
        _assert_unavailable(await outage.client.get("/v1/api-keys", headers=outage.admin))
    created = await outage.client.post(
        "/v1/api-keys", headers=outage.admin, json={"name": "during", "role": "crm"}
    )
    _assert_unavailable(created)
    ready = await outage.client.get("/readyz")
    assert ready.status_code == 503
    assert ready.headers["retry-after"] == str(RETRY_AFTER)
    assert ready.json()["checks"]["database"].startswith("unreachable")

    await outage.proxy.up()
    await _until_ok(outage, "/v1/api-keys")
    await _until_ok(outage, "/readyz")
    listed = (await outage.client.get("/v1/api-keys", headers=outage.admin)).json()["items"]
    assert "during" not in [k["name"] for k in listed]


@pytest.mark.postgres_only
async def test_issue_9_s7_a_read_run_on_the_driver_is_503_and_recovers(
    outage: Outage,
) -> None:
    """GET /v1/contracts/{id} runs its statement on asyncpg itself (app/core/driver.py):
    the outage is the same 503, and the connection it broke is not pooled again."""
    customer = await create_customer(outage.client, outage.admin)
    contract = await apply(outage.client, outage.admin, customer["id"])
    path = f"/v1/contracts/{contract['id']}"
    assert (await outage.client.get(path, headers=outage.admin)).status_code == 200

    invalidated: list[BaseException | None] = []
    pool = outage.database.engine.sync_engine.pool
    event.listen(pool, "invalidate", lambda _conn, _record, exc: invalidated.append(exc))
    await outage.proxy.down()
    for _ in range(3):
        _assert_unavailable(await outage.client.get(path, headers=outage.admin))
    # The broken connection was thrown away where the driver failed, not pooled again.
    assert invalidated, "no connection was invalidated"
    await outage.proxy.up()
    await _until_ok(outage, path)
    # Every pooled connection works again: none the outage broke was handed out twice.
    for _ in range(6):
        assert (await outage.client.get(path, headers=outage.admin)).status_code == 200


@pytest.mark.postgres_only
async def test_issue_9_s7_a_read_run_on_the_driver_in_a_partition_costs_the_timeout(
    outage: Outage,
) -> None:
    customer = await create_customer(outage.client, outage.admin)
    contract = await apply(outage.client, outage.admin, customer["id"])
    path = f"/v1/contracts/{contract['id']}"
    assert (await outage.client.get(path, headers=outage.admin)).status_code == 200

    await outage.proxy.partition()
    for _ in range(2):
        started = time.monotonic()
        response = await asyncio.wait_for(
            outage.client.get(path, headers=outage.admin), PARTITION_BOUND * 3
        )
        _assert_unavailable(response)
        assert time.monotonic() - started < PARTITION_BOUND
    await outage.proxy.up()
    await _until_ok(outage, path)


@pytest.mark.postgres_only
async def test_issue_9_s7_a_create_written_on_the_driver_in_a_partition_costs_the_timeout(
    outage: Outage,
) -> None:
    """A plain customer create is one statement run on asyncpg itself (app/core/driver.py
    ``run_alone``): in a partition it ends at the statement timeout with the 503, the
    connection caught mid-statement is thrown away, and creates work again once the
    partition heals, with the operation log intact."""
    await create_customer(outage.client, outage.admin)  # the key verified, the pool warm
    invalidated: list[BaseException | None] = []
    pool = outage.database.engine.sync_engine.pool
    event.listen(pool, "invalidate", lambda _conn, _record, exc: invalidated.append(exc))

    await outage.proxy.partition()
    started = time.monotonic()
    response = await asyncio.wait_for(
        outage.client.post("/v1/customers", headers=outage.admin, json=customer_body()),
        PARTITION_BOUND * 3,
    )
    _assert_unavailable(response)
    assert time.monotonic() - started < PARTITION_BOUND
    assert invalidated, "the connection caught mid-statement was pooled again"

    await outage.proxy.up()
    await _until_ok(outage, "/v1/api-keys")
    for _ in range(4):  # every pooled connection writes again
        await create_customer(outage.client, outage.admin)
    assert (await audit_log.verify(outage.database)).ok


@pytest.mark.postgres_only
async def test_issue_9_s7_a_sandbox_reading_its_clock_during_an_outage_is_503(
    outage: Outage, clock: FixedClock
) -> None:
    """A sandbox reads today from the database before the route validates anything
    (issue 15): that read failing is the same 503, not a 500 from outside the handlers."""
    app = create_app(
        outage.settings.model_copy(update={"sandbox": True}),
        database=outage.database,
        clock=clock,
    )
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await client.get("/v1/contracts", headers=outage.admin)).status_code == 200
        await outage.proxy.down()
        for path in ("/v1/contracts", "/v1/sandbox/clock", "/v1/contracts/no-such"):
            _assert_unavailable(await client.get(path, headers=outage.admin))
        await outage.proxy.up()
        started = time.monotonic()
        while (await client.get("/v1/contracts", headers=outage.admin)).status_code != 200:
            assert time.monotonic() - started < 10.0
            await asyncio.sleep(0.1)


@pytest.mark.postgres_only
async def test_issue_9_s7_a_partition_costs_a_request_the_timeout_not_its_length(
    outage: Outage,
) -> None:
    assert (await outage.client.get("/v1/api-keys", headers=outage.admin)).status_code == 200

    await outage.proxy.partition()
    for path in ("/v1/api-keys", "/v1/api-keys", "/readyz"):
        started = time.monotonic()
        # wait_for: a request that hangs fails the test instead of hanging the suite.
        response = await asyncio.wait_for(
            outage.client.get(path, headers=outage.admin), PARTITION_BOUND * 3
        )
        elapsed = time.monotonic() - started
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"] == str(RETRY_AFTER)
        assert elapsed < PARTITION_BOUND, f"{path} took {elapsed:.1f} s in a partition"
    _assert_unavailable(
        await asyncio.wait_for(
            outage.client.get("/v1/api-keys", headers=outage.admin), PARTITION_BOUND * 3
        )
    )

    await outage.proxy.up()  # the partition heals
    await _until_ok(outage, "/v1/api-keys")
    await _until_ok(outage, "/readyz")


async def test_issue_9_s7_sqlite_write_lock_held_past_the_busy_timeout_is_503(
    db_kind: str, tmp_path: Path, clock: FixedClock
) -> None:
    """On SQLite the statement timeout is the busy timeout: a request that cannot get the
    write lock in time is a 503 to retry, not a 500, and works once the lock is free. A
    read needs no write lock (issue 11): it is answered while the lock is held."""
    if db_kind != "sqlite":
        pytest.skip("SQLite's busy timeout")
    async with fresh_database("sqlite", tmp_path) as url:
        await asyncio.to_thread(upgrade, url)
        settings = _settings(url).model_copy(update={"db_statement_timeout_seconds": 0.3})
        database = Database(engine_from_settings(settings, pool_size=1))
        try:
            async with database.sessionmaker.begin() as session:
                _, secret = await create_key(
                    session, ApiKeyCreate(name="sqlite", role=Role.ADMIN), clock
                )
            admin = {"Authorization": f"Bearer {secret}"}
            app = create_app(settings, database=database, clock=clock)
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                body = {"name": "株式会社テスト", "billing_name": "経理部", "email": "a@example.jp"}
                holder = sqlite3.connect(make_url(url).database or "", isolation_level=None)
                holder.execute("BEGIN IMMEDIATE")
                try:
                    write = await client.post("/v1/customers", json=body, headers=admin)
                    _assert_unavailable(write)
                    assert (await client.get("/v1/api-keys", headers=admin)).status_code == 200
                finally:
                    holder.execute("ROLLBACK")
                    holder.close()
                assert (
                    await client.post("/v1/customers", json=body, headers=admin)
                ).status_code == 201
        finally:
            await database.dispose()


class _Orig(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"sqlstate {sqlstate}")
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (ConnectionRefusedError(111, "Connect call failed"), True),
        (TimeoutError(), True),
        (OSError("Multiple exceptions: [Errno 111] Connect call failed"), True),
        (sa_exc.TimeoutError("QueuePool limit reached"), True),
        (sa_exc.DBAPIError("SELECT 1", None, _Orig("57P01")), True),  # admin shutdown
        (sa_exc.DBAPIError("SELECT 1", None, _Orig("57P03")), True),  # starting up
        (sa_exc.DBAPIError("SELECT 1", None, _Orig("53300")), True),  # too many connections
        (sa_exc.DBAPIError("SELECT 1", None, _Orig("57014")), True),  # statement timeout
        (sa_exc.DBAPIError("SELECT 1", None, _Orig("08006")), True),  # connection failure
        (sa_exc.DBAPIError("SELECT 1", None, _Orig("23505")), False),  # unique violation
        (sa_exc.DBAPIError("SELECT 1", None, _Orig("42P01")), False),  # missing table: a bug
        (FileNotFoundError(2, "No such file", "font.ttf"), False),
        (ValueError("bad"), False),
    ],
)
def test_issue_9_s7_an_outage_is_told_from_a_bug(error: Exception, expected: bool) -> None:
    assert is_database_unavailable(error) is expected


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.mark.postgres_only
async def test_issue_9_s7_a_bill_run_in_the_background_logs_an_outage_in_one_line(
    outage: Outage, clock: FixedClock
) -> None:
    """The worker's bill run (issue 12 §5), the database gone under it: warning lines, no
    traceback, nothing raised out of the worker; once it is back, the worker carries the
    queued run out to ``finished``."""
    created = await outage.client.post(
        "/v1/billing-runs", headers=outage.admin, json={"month": "2026-06", "dry_run": True}
    )
    assert created.status_code == 202, created.text
    run_id = created.json()["id"]
    records = _Records()
    logs = [logging.getLogger("scms.billing_runs"), logging.getLogger("scms.worker")]
    for log in logs:
        log.addHandler(records)
    settings = outage.settings.model_copy(update={"worker_poll_seconds": 0.05})
    worker = Worker(outage.database, settings, clock, periodic=())
    try:
        await outage.proxy.down()
        with pytest.raises(DatabaseUnavailable):
            await billing_runs.execute(outage.database, run_id, outage.settings, clock)
        running = asyncio.create_task(worker.run())
        await asyncio.sleep(1)
        worker.stop()
        await asyncio.wait_for(running, 30)
    finally:
        for log in logs:
            log.removeHandler(records)
    failures = [r for r in records.records if r.levelno >= logging.WARNING]
    assert failures
    assert all(r.levelno == logging.WARNING and r.exc_info is None for r in failures)
    assert "database is unavailable" in failures[0].getMessage()

    await outage.proxy.up()
    await _until_ok(outage, "/readyz")
    assert await Worker(outage.database, settings, clock, periodic=()).run_one_job()
    run = await outage.client.get(f"/v1/billing-runs/{run_id}", headers=outage.admin)
    assert run.json()["status"] == "finished", run.text


@pytest.fixture
def cluster(db_kind: str) -> Iterator[PgCluster]:
    """A PostgreSQL of the test's own, to stop and start (skipped where the server
    binaries are missing, unless REQUIRE_POSTGRES=1: CI must run it)."""
    if db_kind != "postgres":
        pytest.skip("a throwaway PostgreSQL cluster: the PostgreSQL pass")
    missing = PgCluster.missing()
    if missing is not None:
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(f"REQUIRE_POSTGRES=1 but {missing}", pytrace=False)
        pytest.skip(missing)
    cluster = PgCluster()
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()


@pytest.mark.postgres_only
async def test_issue_9_s7_a_real_postgresql_stopped_and_started_again(
    cluster: PgCluster, clock: FixedClock
) -> None:
    """`pg_ctl stop` (sessions get "terminating connection due to administrator command",
    then connections are refused) and `pg_ctl start`: 503 with Retry-After while it is
    down, 200 again within seconds once it is up, with no restart of the app."""
    await asyncio.to_thread(upgrade, cluster.url)
    settings = _settings(cluster.url)
    database = Database(engine_from_settings(settings, pool_size=3))
    try:
        async with database.sessionmaker.begin() as session:
            _, secret = await create_key(session, ApiKeyCreate(name="pg", role=Role.ADMIN), clock)
        app = create_app(settings, database=database, clock=clock)
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            admin = {"Authorization": f"Bearer {secret}"}
            assert (await client.get("/v1/api-keys", headers=admin)).status_code == 200

            await asyncio.to_thread(cluster.stop, "fast")
            for _ in range(2):
                _assert_unavailable(await client.get("/v1/api-keys", headers=admin))
            assert (await client.get("/readyz")).status_code == 503

            await asyncio.to_thread(cluster.start)
            started = time.monotonic()
            while (response := await client.get("/v1/api-keys", headers=admin)).status_code != 200:
                _assert_unavailable(response)
                assert time.monotonic() - started < 10, "not back 10 s after PostgreSQL"
                await asyncio.sleep(0.1)
            assert (await client.get("/readyz")).status_code == 200
    finally:
        await database.dispose()
