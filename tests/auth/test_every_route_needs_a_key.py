"""API.md: every /v1 route answers 401 without a key, and 401 with a revoked one, before
it looks at the body or the path — for the routes that exist now and those added later."""

from __future__ import annotations

import re

import httpx
import pytest

from app.core.settings import Settings
from app.main import create_app


def _v1_operations() -> list[tuple[str, str]]:
    document = create_app(Settings()).openapi()
    operations = []
    for template, methods in document["paths"].items():
        if template.startswith("/v1/"):
            path = re.sub(r"\{[^}]+\}", "x_1", template)
            operations += [(method.upper(), path) for method in sorted(methods)]
    return operations


OPERATIONS = _v1_operations()


def test_the_route_list_is_not_empty() -> None:
    assert len(OPERATIONS) > 30


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
async def test_no_key_is_401(client: httpx.AsyncClient, method: str, path: str) -> None:
    response = await client.request(method, path, json={})
    assert response.status_code == 401, response.text
    assert response.json()["code"] == "missing_api_key"


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
async def test_unknown_key_is_401(client: httpx.AsyncClient, method: str, path: str) -> None:
    headers = {"Authorization": "Bearer scms_not_a_real_key"}
    response = await client.request(method, path, json={}, headers=headers)
    assert response.status_code == 401, response.text
