"""Request ids and the one structured log line per request."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import httpx
import pytest

from app.core.logging import JsonFormatter


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.setFormatter(JsonFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def access_log() -> Iterator[_Capture]:
    handler = _Capture()
    logger = logging.getLogger("scms.access")
    logger.addHandler(handler)
    previous = logger.level
    logger.setLevel(logging.INFO)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(previous)


async def test_request_id_is_echoed(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": "crm-42"})
    assert response.headers["x-request-id"] == "crm-42"


async def test_request_id_is_generated_when_absent_or_unsafe(client: httpx.AsyncClient) -> None:
    generated = (await client.get("/healthz")).headers["x-request-id"]
    assert len(generated) == 32
    unsafe = await client.get("/healthz", headers={"X-Request-ID": "a b\tc"})
    assert unsafe.headers["x-request-id"] != "a b\tc"


async def test_one_json_log_line_per_request_names_the_key_id_never_the_key(
    client: httpx.AsyncClient, admin: dict[str, str], access_log: _Capture
) -> None:
    response = await client.get("/v1/api-keys", headers={**admin, "X-Request-ID": "r-1"})
    assert response.status_code == 200
    assert len(access_log.lines) == 1
    line = json.loads(access_log.lines[0])
    assert line["method"] == "GET"
    assert line["path"] == "/v1/api-keys"
    assert line["status"] == 200
    assert line["request_id"] == "r-1"
    assert line["api_key_id"].startswith("key_")
    assert isinstance(line["duration_ms"], float)
    secret = admin["Authorization"].removeprefix("Bearer ")
    assert secret not in access_log.lines[0]
