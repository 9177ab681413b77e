"""Entries recorded before the chain began join it at migration 0013; `scms audit`
exports, purges and verifies it (issue 13 §3)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from app.audit import log
from app.cli.main import app
from app.core.database import Database, create_engine
from app.core.migrations import upgrade
from app.core.settings import get_settings
from tests.support.databases import fresh_database

runner = CliRunner()
BEFORE_CHAIN = "0009_invoice_buyer_ids"
INSERT = text(
    "INSERT INTO audit_records (id, occurred_at, actor_key_id, action, resource_type, "
    "resource_id, before, after, request_id) VALUES (:id, :at, 'key_1', :action, :type, "
    ":rid, NULL, :after, NULL)"
)


async def test_r_ptn_2_migration_0013_chains_and_attributes_the_entries_already_recorded(
    db_kind: str, tmp_path: Path
) -> None:
    async with fresh_database(db_kind, tmp_path) as url:
        await asyncio.to_thread(upgrade, url, BEFORE_CHAIN)
        engine = create_engine(url, pool_size=1)
        try:
            at = datetime(2026, 11, 1, 1, 2, 3, 456789, tzinfo=UTC)
            rows = [
                ("aud_1", at, "customers.create", "customer", "cus_1", '{"name": "甲"}'),
                (
                    "aud_2",
                    at + timedelta(seconds=1),
                    "contract.applied",
                    "contract",
                    "con_1",
                    '{"customer_id": "cus_1", "plan": "foundation-essential"}',
                ),
                (
                    "aud_3",
                    at + timedelta(seconds=2),
                    "price_books.create",
                    "price_book",
                    "pb_1",
                    '{"effective_from": "2026-12-01"}',
                ),
            ]
            async with engine.begin() as conn:
                for rid, when, action, kind, resource, after in rows:
                    stored = when if db_kind == "postgres" else when.replace(tzinfo=None)
                    await conn.execute(
                        INSERT,
                        {
                            "id": rid,
                            "at": stored,
                            "action": action,
                            "type": kind,
                            "rid": resource,
                            "after": after,
                        },
                    )
            await asyncio.to_thread(upgrade, url)
            async with engine.connect() as conn:
                found = (
                    await conn.execute(
                        text("SELECT id, seq, customer_id FROM audit_records ORDER BY seq")
                    )
                ).all()
            assert [tuple(r) for r in found] == [
                ("aud_1", 1, "cus_1"),
                ("aud_2", 2, "cus_1"),
                ("aud_3", 3, None),
            ]
            result = await log.verify(Database(engine))
            assert result.ok
            assert result.checked == 3
        finally:
            await engine.dispose()


@pytest.fixture
def cli_database(db_kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    loop = asyncio.new_event_loop()
    manager = fresh_database(db_kind, tmp_path)
    try:
        url = loop.run_until_complete(manager.__aenter__())
    except BaseException:
        loop.close()
        raise
    monkeypatch.setenv("SCMS_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        yield url
    finally:
        get_settings.cache_clear()
        loop.run_until_complete(manager.__aexit__(None, None, None))
        loop.close()


def test_r_ptn_2_scms_audit_export_purge_and_verify(
    cli_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert runner.invoke(app, ["migrate"]).exit_code == 0
    # Two keys made from the command line: two entries, both of today.
    for name in ("a", "b"):
        made = runner.invoke(app, ["api-keys", "create", "--name", name, "--role", "operator"])
        assert made.exit_code == 0, made.output
    out = tmp_path / "log.ndjson"
    exported = runner.invoke(
        app, ["audit", "export", "--since", "2000-01-01", "--output", str(out)]
    )
    assert exported.exit_code == 0, exported.output
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [e["action"] for e in lines] == ["api_keys.create", "api_keys.create"]
    assert lines[0]["actor"] == {"key_id": "cli", "name": "scms command line", "role": "admin"}
    none = runner.invoke(app, ["audit", "export", "--since", "2999-01-01"])
    assert none.exit_code == 0
    assert none.stdout == ""

    verified = runner.invoke(app, ["audit", "verify"])
    assert verified.exit_code == 0, verified.output
    assert "intact: 2 entries" in verified.output

    dry = runner.invoke(app, ["audit", "purge", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert dry.output.startswith("0 entries"), dry.output
    monkeypatch.setenv("SCMS_AUDIT_RETENTION_DAYS", "1")
    get_settings.cache_clear()
    # Nothing is a day old yet: the purge keeps both.
    assert runner.invoke(app, ["audit", "purge"]).output.startswith("0 entries")

    bad = runner.invoke(app, ["audit", "export", "--since", "2026-11-01T10:00:00"])
    assert bad.exit_code == 2
    assert "offset" in bad.output


def test_scms_audit_verify_exits_1_on_a_broken_chain(cli_database: str) -> None:
    assert runner.invoke(app, ["migrate"]).exit_code == 0
    made = runner.invoke(app, ["api-keys", "create", "--name", "a", "--role", "operator"])
    assert made.exit_code == 0

    async def tamper() -> None:
        engine = create_engine(cli_database, pool_size=1)
        try:
            async with engine.begin() as conn:
                await conn.execute(text("UPDATE audit_records SET action = 'forged'"))
        finally:
            await engine.dispose()

    asyncio.run(tamper())
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 1
    assert "broken at seq 1" in result.output
