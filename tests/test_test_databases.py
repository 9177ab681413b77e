"""`make test` on a stock PostgreSQL (issue 9 §8): the suite connects to the maintenance
database to create and drop its own, and says whether the server is unreachable or the
database it was told to use is missing."""

from __future__ import annotations

import socket

import pytest
from sqlalchemy.engine import make_url

from tests.support.databases import DEFAULT_POSTGRES_URL, postgres_reachable, postgres_server_url


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def test_the_default_test_server_url_names_the_maintenance_database_issue_9_s8(
    project_root,
) -> None:
    """A stock cluster has `postgres`, not `test`: the default and the Makefile use it."""
    assert make_url(DEFAULT_POSTGRES_URL).database == "postgres"
    makefile = (project_root / "Makefile").read_text(encoding="utf-8")
    assert f"SCMS_TEST_POSTGRES_URL ?= {DEFAULT_POSTGRES_URL}" in makefile


async def test_nothing_listening_says_server_unreachable_issue_9_s8() -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{_free_port()}/postgres"
    problem = await postgres_reachable(url)
    assert problem is not None
    assert not problem.answered
    assert str(problem).startswith("server unreachable")
    assert "database missing" not in str(problem)


async def test_a_database_that_does_not_exist_says_database_missing_issue_9_s8() -> None:
    server = postgres_server_url()
    if await postgres_reachable(server) is not None:
        pytest.skip("needs a reachable PostgreSQL")
    url = make_url(server).set(database="scms_no_such_database").render_as_string(False)
    problem = await postgres_reachable(url)
    assert problem is not None
    assert problem.answered
    assert str(problem).startswith("database missing")
    assert "'scms_no_such_database'" in str(problem)
    assert "unreachable" not in str(problem)
