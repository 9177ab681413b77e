"""Operations endpoints: liveness, readiness, metrics and offline docs."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx

from app.core.database import Database, create_engine
from app.core.migrations import upgrade
from app.core.settings import Settings
from app.main import create_app
from tests.support.databases import fresh_database


async def test_healthz_says_the_process_is_up(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_is_ready_when_migrations_are_at_head(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["checks"]["migrations"]["current"] == body["checks"]["migrations"]["head"]


async def _readyz_on(url: str) -> httpx.Response:
    database = Database(create_engine(url, pool_size=1))
    app = create_app(Settings(database_url=url), database=database)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await client.get("/readyz")
    finally:
        await database.dispose()


async def test_readyz_is_503_when_migrations_are_behind(db_kind: str, tmp_path: Path) -> None:
    async with fresh_database(db_kind, tmp_path) as url:
        empty = await _readyz_on(url)
        await asyncio.to_thread(upgrade, url, "0001_api_keys")
        partial = await _readyz_on(url)
    assert empty.status_code == 503
    assert empty.json()["checks"]["migrations"]["current"] == []
    assert partial.status_code in (200, 503)
    assert partial.json()["status"] == ("ready" if partial.status_code == 200 else "not_ready")


async def test_readyz_is_503_when_the_database_is_unreachable(tmp_path: Path) -> None:
    url = "postgresql+asyncpg://nobody@127.0.0.1:1/none"
    response = await _readyz_on(url)
    assert response.status_code == 503
    assert response.json()["checks"]["database"].startswith("unreachable")


async def test_metrics_count_requests_by_route_template(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await client.get("/v1/api-keys/key_nope", headers=admin)
    text = (await client.get("/metrics")).text
    assert re.search(
        r'scms_http_requests_total\{method="GET",route="/v1/api-keys/\{key_id\}",status="404"\}',
        text,
    )
    assert "scms_http_request_duration_seconds_bucket" in text


async def test_docs_and_redoc_work_without_internet(client: httpx.AsyncClient) -> None:
    for page in ("/docs", "/redoc"):
        response = await client.get(page)
        assert response.status_code == 200
        assert not re.search(r"""(src|href)=["']https?://""", response.text), page
        for asset in re.findall(r"""(?:src|href)=["'](/static/[^"']+)""", response.text):
            served = await client.get(asset)
            assert served.status_code == 200, asset
            assert len(served.content) > 100
    assert (await client.get("/openapi.json")).status_code == 200
