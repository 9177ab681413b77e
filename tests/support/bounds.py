"""issue 9 §4 test helpers: the business window as the test clock (2026-11-24) sees it,
the dates just outside it, and JSON bodies with a number written exactly as given."""

from __future__ import annotations

import json
from typing import Any

import httpx

LAST_ALLOWED = "2031-12-31"
OUT_OF_WINDOW = ["0001-01-01", "1999-12-31", "2032-01-01", "9999-12-31"]
MONTHS_OUT_OF_WINDOW = ["0001-01", "1999-12", "2032-01", "9999-12"]
# Amounts as written in the JSON text: 1e3 and 1000.0 are JSON numbers, not integers.
BAD_AMOUNTS = ["1e3", "1000.0", '"1000"', "true", "0", "-1", "1000000000001"]


def out_of_range(response: httpx.Response, field: str) -> dict[str, Any]:
    """Assert a 422 that names ``field`` and the window; return the field's entry."""
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == "validation_error", body
    entries = [e for e in body["errors"] if e["field"] == field]
    assert len(entries) == 1, body
    (entry,) = entries
    assert entry["type"] == "date_out_of_range", entry
    assert (entry["first_allowed"], entry["last_allowed"]) in {
        ("2000-01-01", LAST_ALLOWED),
        ("2000-01", LAST_ALLOWED[:7]),
    }, entry
    return dict(entry)


def with_raw(body: dict[str, Any], path: str, raw: str) -> str:
    """``body`` as JSON text with the value at ``path`` (``a.0.b``) written as ``raw``."""
    marker = "\x00raw\x00"
    copy: Any = json.loads(json.dumps(body))
    node = copy
    *parents, leaf = path.split(".")
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    node[int(leaf) if isinstance(node, list) else leaf] = marker
    return json.dumps(copy, ensure_ascii=False).replace(json.dumps(marker), raw)


async def post_raw(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], text: str
) -> httpx.Response:
    return await client.post(
        url,
        content=text.encode(),
        headers={**headers, "Content-Type": "application/json"},
    )
