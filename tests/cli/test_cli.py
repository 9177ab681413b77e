"""The `scms` console script: migrate and API keys against a real database."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from app.cli.main import app
from app.core.settings import get_settings
from tests.support.databases import fresh_database, postgres_or_skip, postgres_server_url

runner = CliRunner()


@pytest.fixture
def cli_database(db_kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    loop = asyncio.new_event_loop()
    manager = fresh_database(db_kind, tmp_path)
    try:
        url = loop.run_until_complete(manager.__aenter__())
    except BaseException:  # a skip too: no PostgreSQL answers
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


def test_migrate_then_create_list_and_revoke_a_key(cli_database: str) -> None:
    assert runner.invoke(app, ["migrate"]).exit_code == 0
    created = runner.invoke(app, ["api-keys", "create", "--name", "ops", "--role", "operator"])
    assert created.exit_code == 0, created.output
    secret = created.output.strip().splitlines()[-1]
    assert secret.startswith("scms_")
    listed = runner.invoke(app, ["api-keys", "list"])
    assert listed.exit_code == 0
    assert "operator" in listed.output
    assert secret not in listed.output
    key_id = created.output.split("Created API key ")[1].split()[0]
    revoked = runner.invoke(app, ["api-keys", "revoke", key_id])
    assert revoked.exit_code == 0, revoked.output
    again = runner.invoke(app, ["api-keys", "revoke", key_id])
    assert again.exit_code == 1
    assert "already revoked" in again.output


def test_portal_key_without_customer_is_refused(cli_database: str) -> None:
    assert runner.invoke(app, ["migrate"]).exit_code == 0
    result = runner.invoke(app, ["api-keys", "create", "--name", "p", "--role", "portal"])
    assert result.exit_code == 2
    assert "customer_id" in result.output


def test_unknown_role_is_refused_with_the_choices(cli_database: str) -> None:
    result = runner.invoke(app, ["api-keys", "create", "--name", "p", "--role", "wizard"])
    assert result.exit_code != 0
    assert "admin" in result.output


def test_unmigrated_database_is_one_line_naming_scms_migrate_issue_9_s8(cli_database: str) -> None:
    """Every command on a database no migration has made: one line, exit 1, no traceback."""
    for args in (
        ["api-keys", "list"],
        ["api-keys", "create", "--name", "ops", "--role", "operator"],
        ["api-keys", "revoke", "key_x"],
        ["contracts", "roll", "--as-of", "2026-11-24"],
        ["bill-run", "--month", "2026-10"],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 1, (args, result.output)
        assert "Traceback" not in result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
        lines = result.output.strip().splitlines()
        assert len(lines) == 1, (args, result.output)
        assert "scms migrate" in lines[0]


def test_missing_database_is_one_line_saying_what_to_run_issue_9_s8(
    db_kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite: a file not made yet; PostgreSQL: a database the server does not have."""
    if db_kind == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'nowhere' / 'scms.db'}"
    else:
        asyncio.run(postgres_or_skip())
        missing = make_url(postgres_server_url()).set(database="scms_no_such_db")
        url = missing.render_as_string(hide_password=False)
    monkeypatch.setenv("SCMS_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        commands = [["api-keys", "list"]] + ([["migrate"]] if db_kind == "postgres" else [])
        for args in commands:
            result = runner.invoke(app, args)
            assert result.exit_code == 1, result.output
            assert "Traceback" not in result.output
            assert len(result.output.strip().splitlines()) == 1, result.output
            assert "scms migrate" in result.output
            if db_kind == "postgres":
                assert "no database 'scms_no_such_db'" in result.output
    finally:
        get_settings.cache_clear()


def test_api_keys_list_never_cuts_ids_and_has_json_issue_9_s8(
    cli_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "40")  # a narrow terminal: rich would shrink the columns
    assert runner.invoke(app, ["migrate"]).exit_code == 0
    long_name = "Salesforce integration for the 大阪 sales office " * 3
    created = runner.invoke(app, ["api-keys", "create", "--name", long_name, "--role", "crm"])
    assert created.exit_code == 0, created.output
    key_id = created.output.split("Created API key ")[1].split()[0]
    listed = runner.invoke(app, ["api-keys", "list"])
    assert listed.exit_code == 0, listed.output
    assert key_id in listed.output
    as_json = runner.invoke(app, ["api-keys", "list", "--json"])
    assert as_json.exit_code == 0, as_json.output
    keys = json.loads(as_json.output)
    assert [(k["id"], k["name"], k["role"]) for k in keys] == [(key_id, long_name, "crm")]
    assert set(keys[0]) == {
        "id",
        "name",
        "role",
        "customer_id",
        "key_prefix",
        "created_at",
        "revoked_at",
    }
    assert runner.invoke(app, ["api-keys", "revoke", key_id]).exit_code == 0
    assert json.loads(runner.invoke(app, ["api-keys", "list", "--json"]).output) == []
    revoked = json.loads(runner.invoke(app, ["api-keys", "list", "--json", "--all"]).output)
    assert revoked[0]["revoked_at"] is not None


def test_portal_key_for_a_customer_that_does_not_exist_is_refused_issue_9_s8(
    cli_database: str,
) -> None:
    assert runner.invoke(app, ["migrate"]).exit_code == 0
    args = ["api-keys", "create", "--name", "p", "--role", "portal", "--customer-id", "cus_nope"]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "No customer cus_nope" in result.output
    assert "Traceback" not in result.output
    assert "scms_" not in result.output  # no key was made
    crm = ["api-keys", "create", "--name", "c", "--role", "crm", "--customer-id", "cus_nope"]
    refused = runner.invoke(app, crm)
    assert refused.exit_code == 2
    assert "only a portal key" in refused.output
    listed = runner.invoke(app, ["api-keys", "list", "--json"])
    assert json.loads(listed.output) == []


@pytest.mark.parametrize(
    ("host", "listening", "docs"),
    [
        ("127.0.0.1", "http://127.0.0.1:8123", "http://127.0.0.1:8123/docs"),
        ("0.0.0.0", "http://0.0.0.0:8123", "http://127.0.0.1:8123/docs"),
        ("::", "http://[::]:8123", "http://[::1]:8123/docs"),
    ],
)
def test_serve_says_where_it_listens_issue_9_s8(
    monkeypatch: pytest.MonkeyPatch, host: str, listening: str, docs: str
) -> None:
    import uvicorn

    served: dict[str, object] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: served.update(kw))
    result = runner.invoke(app, ["serve", "--no-migrate", "--host", host, "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert served["host"] == host
    assert served["port"] == 8123
    assert served["log_level"] == "warning"
    assert f"Listening on {listening}" in result.output
    assert f"API docs: {docs}" in result.output


def test_serve_starts_the_workers_asked_for_with_uvloop_and_httptools_issue_11(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import uvicorn

    served: dict[str, object] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: served.update(kw, app=app))
    result = runner.invoke(app, ["serve", "--no-migrate", "--workers", "3"])
    assert result.exit_code == 0, result.output
    # Each worker makes its own application: an import string and a factory.
    assert served["app"] == "app.cli.main:serve_app"
    assert served["factory"] is True
    assert (served["workers"], served["loop"], served["http"]) == (3, "uvloop", "httptools")
    assert "(3 workers, uvloop, httptools)" in result.output


def test_serve_reads_scms_workers_issue_11(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    served: dict[str, object] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: served.update(kw))
    monkeypatch.setenv("SCMS_WORKERS", "2")
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, ["serve", "--no-migrate"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert served["workers"] == 2
    assert "(2 workers, uvloop, httptools)" in result.output


def test_a_server_process_freezes_what_building_the_app_made_issue_11(tmp_path: Path) -> None:
    """The collector no longer walks the application's long-lived objects: a full
    collection under load is no longer a ~100 ms pause of every request (the p99); and
    young collections run every 20,000 new objects, not every 700."""
    import subprocess
    import sys

    probe = (
        "import gc; from app.cli.main import serve_app; before = gc.get_freeze_count(); "
        "serve_app(); print(before, gc.get_freeze_count(), *gc.get_threshold())"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "SCMS_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'probe.db'}",
        "SCMS_EMBEDDED_WORKER": "false",
    }
    out = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    )
    before, after, *thresholds = map(int, out.stdout.split())
    assert before == 0
    assert after > 10_000  # the modules, schemas and tables, not a handful
    assert thresholds == [20_000, 10, 10]
