"""issue 9 §5 "No 500 for any input": the request guard (app/core/guard.py).

NUL characters are refused wherever they come (PostgreSQL cannot store them in text);
bodies over SCMS_MAX_BODY_BYTES are 413 before they are read; the API key is checked
before the body is read; a body that is not JSON is 415.
"""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from app.auth import service
from app.core.settings import Settings
from tests.support.factories import application_body, create_customer, customer_body

PROBLEM = "application/problem+json"
LIMIT = Settings().max_body_bytes


def _problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    return body


def _invalid_character(response: httpx.Response, where: str, field: str) -> None:
    body = _problem(response, 422, "invalid_character")
    assert body["errors"] == [
        {
            "field": field,
            "in": where,
            "message": "Contains a NUL character or an unpaired surrogate.",
            "type": "invalid_character",
        }
    ]


async def _customer_count(client: httpx.AsyncClient, headers: dict[str, str]) -> int:
    response = await client.get("/v1/customers", params={"limit": 200}, headers=headers)
    return len(response.json()["items"])


def test_the_default_body_limit_is_one_mebibyte() -> None:
    """issue 9 §5: SCMS_MAX_BODY_BYTES defaults to 1 MiB."""
    assert LIMIT == 1024 * 1024


# --- NUL characters -----------------------------------------------------------------


async def test_issue_9_s5_nul_in_the_path_is_422_not_500(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    for path in ("/v1/customers/cus_%00x", "/v1/contracts/%00", "/v1/invoices/inv_1%00/pdf"):
        response = await client.get(path, headers=admin)
        _invalid_character(response, "path", path.replace("%00", "\\u0000"))


async def test_issue_9_s5_nul_in_the_query_is_422_naming_the_parameter(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    for params in ({"name": "株式会社\x00"}, {"external_ref": "\x00"}, {"cursor": "abc\x00"}):
        response = await client.get("/v1/customers", params=params, headers=admin)
        _invalid_character(response, "query", next(iter(params)))
    response = await client.get("/v1/customers?na%00me=x", headers=admin)
    _invalid_character(response, "query", "na\\u0000me")


async def test_issue_9_s5_nul_in_a_header_is_422_naming_the_header(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    customer = await create_customer(client, admin)
    response = await client.patch(
        f"/v1/customers/{customer['id']}",
        json={"name": "株式会社新名"},
        headers={**admin, "If-Match": 'W/"1\x00"'},
    )
    _invalid_character(response, "header", "if-match")


async def test_issue_9_s5_nul_in_a_json_string_is_422_naming_the_field_and_changes_nothing(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    before = await _customer_count(client, admin)
    response = await client.post(
        "/v1/customers", json=customer_body(name="株式会社\x00サンプル"), headers=admin
    )
    _invalid_character(response, "body", "name")
    # The same, escaped by a client that writes ASCII-only JSON.
    raw = json.dumps(customer_body(billing_name="経理\x00部"), ensure_ascii=True).encode()
    response = await client.post(
        "/v1/customers", content=raw, headers={**admin, "content-type": "application/json"}
    )
    _invalid_character(response, "body", "billing_name")
    assert await _customer_count(client, admin) == before


async def test_issue_9_s5_nul_deep_in_a_json_body_or_in_a_key_is_422(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    customer = await create_customer(client, admin)
    body = copy.deepcopy(application_body(customer["id"]))
    body["administrators"][1]["name"] = "佐藤\x00花子"
    response = await client.post("/v1/contracts", json=body, headers=admin)
    _invalid_character(response, "body", "administrators.1.name")
    response = await client.post("/v1/contracts", json={"a\x00": 1}, headers=admin)
    _invalid_character(response, "body", "a\\x00")


async def test_issue_9_s5_an_unpaired_surrogate_in_json_is_422(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    raw = b'{"name": "\\ud800", "billing_name": "x", "email": "a@example.co.jp"}'
    response = await client.post(
        "/v1/customers", content=raw, headers={**admin, "content-type": "application/json"}
    )
    _invalid_character(response, "body", "name")


async def test_issue_9_s5_a_body_that_is_not_utf8_is_422_naming_the_byte(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    """Found by `make fuzz`: FastAPI answered undecodable bytes with a bare 400."""
    raw = '{"name": "株式会社"}'.encode("shift_jis")
    response = await client.post(
        "/v1/customers", content=raw, headers={**admin, "content-type": "application/json"}
    )
    body = _problem(response, 422, "invalid_character")
    assert body["errors"][0]["in"] == "body"
    assert body["errors"][0]["message"] == "Byte 10 is not UTF-8; send JSON as UTF-8."


async def test_issue_9_s5_escapes_that_are_not_nul_pass(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    """An escaped backslash before "u0000" and a valid surrogate pair are ordinary text."""
    raw = json.dumps(customer_body(name="株式会社\\u0000 😀"), ensure_ascii=True).encode()
    response = await client.post(
        "/v1/customers", content=raw, headers={**admin, "content-type": "application/json"}
    )
    assert response.status_code == 201, response.text
    assert response.json()["name"] == "株式会社\\u0000 😀"


# --- body size ----------------------------------------------------------------------


async def test_issue_9_s5_a_content_length_over_the_limit_is_413_before_reading(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    async def never_read() -> AsyncIterator[bytes]:
        raise AssertionError("the body was read")
        yield b""  # pragma: no cover

    for headers in (admin, {}):
        response = await client.post(
            "/v1/customers",
            content=never_read(),
            headers={
                **headers,
                "content-type": "application/json",
                "content-length": str(LIMIT + 1),
            },
        )
        body = _problem(response, 413, "body_too_large")
        assert body["max_body_bytes"] == LIMIT
        assert "SCMS_MAX_BODY_BYTES" in body["detail"]


async def test_issue_9_s5_a_chunked_body_over_the_limit_is_413_after_one_chunk_too_many(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    chunk = b" " * 65536
    sent = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal sent
        while True:
            sent += 1
            yield chunk

    response = await client.post(
        "/v1/customers", content=endless(), headers={**admin, "content-type": "application/json"}
    )
    _problem(response, 413, "body_too_large")
    assert sent == LIMIT // len(chunk) + 1


async def test_issue_9_s5_a_body_at_the_limit_is_read(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    raw = json.dumps(customer_body()).encode()
    padded = raw[:-1] + b" " * (LIMIT - len(raw)) + b"}"

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(padded), 100_000):
            yield padded[start : start + 100_000]

    response = await client.post(
        "/v1/customers", content=chunks(), headers={**admin, "content-type": "application/json"}
    )
    assert response.status_code == 201, response.text


# --- the key before the body ----------------------------------------------------------


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer scms_not_a_real_key"}, {"Authorization": "Basic x"}]
)
async def test_issue_9_s5_no_or_a_wrong_key_is_401_without_reading_the_body(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    async def never_read() -> AsyncIterator[bytes]:
        raise AssertionError("the body was read before the key was checked")
        yield b""  # pragma: no cover

    response = await client.post(
        "/v1/customers",
        content=never_read(),
        headers={**headers, "content-type": "application/json"},
    )
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == 'Bearer realm="scms"'


async def test_issue_9_s5_the_key_is_looked_up_once_per_request(
    client: httpx.AsyncClient, admin: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = 0
    real = service.authenticate

    async def counting(*args: Any) -> Any:
        nonlocal calls
        calls += 1
        return await real(*args)

    monkeypatch.setattr("app.auth.dependencies.authenticate", counting)
    response = await client.post("/v1/customers", json=customer_body(), headers=admin)
    assert response.status_code == 201
    assert calls == 1


async def test_issue_9_s5_a_wrong_role_is_still_403(client: httpx.AsyncClient, make_key) -> None:
    partner = await make_key("partner")
    response = await client.post("/v1/customers", json=customer_body(), headers=partner)
    _problem(response, 403, "forbidden")


# --- media type -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml", None]
)
async def test_issue_9_s5_a_body_that_is_not_json_is_415_naming_application_json(
    client: httpx.AsyncClient, admin: dict[str, str], content_type: str | None
) -> None:
    headers = dict(admin)
    if content_type is not None:
        headers["content-type"] = content_type
    raw = json.dumps(customer_body()).encode()
    response = await client.post("/v1/customers", content=raw, headers=headers)
    body = _problem(response, 415, "unsupported_media_type")
    assert body["accepted"] == ["application/json"]
    assert "application/json" in body["detail"]


async def test_issue_9_s5_json_with_a_charset_or_a_json_suffix_is_accepted(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    raw = json.dumps(customer_body()).encode()
    for content_type in ("application/json; charset=utf-8", "application/merge-patch+json"):
        response = await client.post(
            "/v1/customers", content=raw, headers={**admin, "content-type": content_type}
        )
        assert response.status_code == 201, response.text


async def test_issue_9_s5_a_post_without_a_body_needs_no_content_type(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    """Bodies are optional on some actions (accept): no body, no media type to check."""
    customer = await create_customer(client, admin)
    response = await client.post(
        "/v1/contracts", json=application_body(customer["id"]), headers=admin
    )
    assert response.status_code == 201, response.text
    contract_id = response.json()["id"]
    response = await client.post(f"/v1/contracts/{contract_id}/withdraw", headers=admin)
    assert response.status_code != 415, response.text


async def test_issue_9_s5_json_nested_too_deeply_is_a_documented_422_not_400(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    """Under the size limit, 100,000 nested arrays (or objects around a NUL) are more than
    the JSON parser recurses: FastAPI answered a bare 400, which no operation documents.
    Invalid input like any other: 422 validation_error, and nothing is stored."""
    headers = {**admin, "content-type": "application/json"}
    before = await _customer_count(client, admin)
    for raw in (
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a":' * 50_000 + b'"\\u0000"' + b"}" * 50_000,
    ):
        response = await client.post("/v1/customers", content=raw, headers=headers)
        body = _problem(response, 422, "validation_error")
        assert body["errors"][0]["type"] == "json_invalid"
        assert "nested too deeply" in body["detail"]
    assert await _customer_count(client, admin) == before
