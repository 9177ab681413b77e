"""Issue 15, end to end: two real `scms serve` processes on one database agree on the
sandbox's today once one of them has moved it."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

from tests.e2e.test_server_process import SCMS, _free_port
from tests.support.databases import fresh_database


def _serve(env: dict[str, str], log: Path, stack: ExitStack) -> str:
    port = _free_port()
    log_file = stack.enter_context(log.open("wb"))
    process = subprocess.Popen(
        [SCMS, "serve", "--port", str(port)], env=env, stdout=log_file, stderr=log_file
    )
    stack.callback(process.wait, timeout=10)
    stack.callback(process.terminate)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return base
        except httpx.TransportError:
            pass
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, "server did not become ready"
        time.sleep(0.2)


@pytest.fixture
def sandbox_env(db_kind: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    loop = asyncio.new_event_loop()
    manager = fresh_database(db_kind, tmp_path)
    try:
        url = loop.run_until_complete(manager.__aenter__())
    except BaseException:
        loop.close()
        raise
    try:
        yield {**os.environ, "SCMS_DATABASE_URL": url, "SCMS_SANDBOX": "true"}
    finally:
        loop.run_until_complete(manager.__aexit__(None, None, None))
        loop.close()


def test_issue_15_two_server_processes_agree_on_the_moved_date(
    sandbox_env: dict[str, str], tmp_path: Path
) -> None:
    with ExitStack() as stack:
        first = _serve(sandbox_env, tmp_path / "first.log", stack)
        second = _serve(sandbox_env, tmp_path / "second.log", stack)
        created = subprocess.run(
            [SCMS, "api-keys", "create", "--name", "sandbox", "--role", "admin"],
            env=sandbox_env,
            capture_output=True,
            text=True,
            check=True,
        )
        admin = {"Authorization": f"Bearer {created.stdout.strip().splitlines()[-1]}"}
        before = httpx.get(f"{second}/v1/sandbox/clock", headers=admin).json()
        target = (date.fromisoformat(before["today"]) + timedelta(days=40)).isoformat()
        moved = httpx.put(
            f"{first}/v1/sandbox/clock", json={"today": target}, headers=admin, timeout=60
        )
        assert moved.status_code == 200, moved.text
        after = httpx.get(f"{second}/v1/sandbox/clock", headers=admin).json()
        assert (after["today"], after["offset_days"]) == (target, 40)
        assert httpx.get(f"{second}/readyz").json()["checks"]["sandbox"] == "on"
