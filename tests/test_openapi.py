"""The committed openapi/openapi.json is exactly what the app serves (`make openapi`)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx


async def test_committed_openapi_matches_the_served_document(
    client: httpx.AsyncClient, project_root: Path
) -> None:
    committed = json.loads((project_root / "openapi" / "openapi.json").read_text())
    served = (await client.get("/openapi.json")).json()
    assert committed == served, "run `make openapi` and commit openapi/openapi.json"


async def test_operation_ids_are_clean_and_unique(client: httpx.AsyncClient) -> None:
    served = (await client.get("/openapi.json")).json()
    ids = [op["operationId"] for path in served["paths"].values() for op in path.values()]
    assert len(ids) == len(set(ids))
    for operation_id in ids:
        assert operation_id.replace("-", "").isalnum(), operation_id


async def test_every_v1_operation_declares_bearer_auth(client: httpx.AsyncClient) -> None:
    served = (await client.get("/openapi.json")).json()
    for path, operations in served["paths"].items():
        if path.startswith("/v1/"):
            for method, op in operations.items():
                assert op.get("security"), f"{method.upper()} {path} has no security"
