"""End to end: the real `scms serve` process, a key from `scms api-keys create`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.databases import fresh_database

SCMS = str(Path(sys.executable).parent / "scms")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def server_env(db_kind: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    import asyncio

    loop = asyncio.new_event_loop()
    manager = fresh_database(db_kind, tmp_path)
    url = loop.run_until_complete(manager.__aenter__())
    env = {**os.environ, "SCMS_DATABASE_URL": url, "SCMS_PORT": str(_free_port())}
    try:
        yield env
    finally:
        loop.run_until_complete(manager.__aexit__(None, None, None))
        loop.close()


def test_served_api_accepts_a_cli_created_admin_key(
    server_env: dict[str, str], tmp_path: Path
) -> None:
    log_path = tmp_path / "server.log"
    log_file = log_path.open("wb")
    server = subprocess.Popen([SCMS, "serve"], env=server_env, stdout=log_file, stderr=log_file)
    base = f"http://127.0.0.1:{server_env['SCMS_PORT']}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, "server did not become ready"
            time.sleep(0.2)
        created = subprocess.run(
            [SCMS, "api-keys", "create", "--name", "first", "--role", "admin"],
            env=server_env,
            capture_output=True,
            text=True,
            check=True,
        )
        key = created.stdout.strip().splitlines()[-1]
        listed = httpx.get(f"{base}/v1/api-keys", headers={"Authorization": f"Bearer {key}"})
        assert listed.status_code == 200
        assert [k["name"] for k in listed.json()["items"]] == ["first"]
        docs = httpx.get(f"{base}/docs")
        assert docs.status_code == 200
        assert "swagger-ui-bundle.js" in docs.text
    finally:
        server.terminate()
        server.wait(timeout=10)
        log_file.close()
