"""The `scms` console script: migrate and API keys against a real database."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli.main import app
from app.core.settings import get_settings
from tests.support.databases import fresh_database

runner = CliRunner()


@pytest.fixture
def cli_database(db_kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    loop = asyncio.new_event_loop()
    manager = fresh_database(db_kind, tmp_path)
    url = loop.run_until_complete(manager.__aenter__())
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
