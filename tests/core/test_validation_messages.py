"""issue 9 §6: validation messages speak plainly, and malformed JSON says where.

Each message says what is accepted ("use YYYY-MM-DD", "must be an integer", "must be one
of: …") instead of pydantic's raw text, and a body that is not JSON names the line, the
column and what was expected there.
"""

from __future__ import annotations

from typing import Any

import httpx

Headers = dict[str, str]


def _errors(response: httpx.Response) -> dict[str, dict[str, Any]]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == "validation_error"
    return {e["field"]: e for e in body["errors"]}


async def test_issue_9_s6_a_bad_date_says_use_yyyy_mm_dd(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    response = await client.get(
        "/v1/invoices/inv_x/late-charge", params={"as_of": "24/11/2026"}, headers=admin
    )
    error = _errors(response)["as_of"]
    assert error["in"] == "query"
    assert "use YYYY-MM-DD" in error["message"]
    assert "24/11/2026" in error["message"]
    assert "Input should be" not in error["message"]


async def test_issue_9_s6_integers_enums_and_missing_fields_say_what_is_accepted(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    response = await client.get("/v1/contracts", params={"limit": "ten"}, headers=admin)
    assert _errors(response)["limit"]["message"] == "must be an integer"
    response = await client.get("/v1/contracts", params={"limit": "0"}, headers=admin)
    assert _errors(response)["limit"]["message"] == "must be at least 1"
    response = await client.get("/v1/contracts", params={"status": "alive"}, headers=admin)
    message = _errors(response)["status"]["message"]
    assert message.startswith("must be one of: "), message
    assert "applied" in message
    assert "active" in message
    assert "'" not in message
    response = await client.post("/v1/api-keys", json={"role": "crm"}, headers=admin)
    assert _errors(response)["name"]["message"] == "is required"


async def test_issue_9_s6_lengths_types_and_unknown_fields_are_plain(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    response = await client.post(
        "/v1/api-keys", json={"name": "", "role": "crm", "colour": "blue"}, headers=admin
    )
    errors = _errors(response)
    assert errors["name"]["message"] == "must be at least 1 character long"
    assert errors["colour"]["message"] == "is not a field here"
    response = await client.post("/v1/api-keys", json=["crm"], headers=admin)
    assert _errors(response)["body"]["message"] == "must be a JSON object"
    response = await client.get("/v1/invoices", params={"month": "2026-13"}, headers=admin)
    assert _errors(response)["month"]["message"] == "use YYYY-MM (a month 01-12), not '2026-13'"


async def test_issue_9_s6_malformed_json_says_where_and_what_was_expected(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    body = b'{\n  "name": "CRM",\n  "role": "crm"\n  "customer_id": null\n}'
    response = await client.post(
        "/v1/api-keys", content=body, headers={**admin, "content-type": "application/json"}
    )
    problem = response.json()
    error = _errors(response)["body"]
    assert error["type"] == "json_invalid"
    assert error["line"] == 4
    assert error["column"] == 3
    assert error["message"] == (
        "is not valid JSON: expected ',' delimiter at line 4, column 3 (character 37)"
    )
    assert "line 4, column 3" in problem["detail"]
