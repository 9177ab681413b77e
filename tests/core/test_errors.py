"""Every error the app can return is RFC 9457 problem+json (API.md "Errors")."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, Field

from app.core.errors import FIELD_RULES, InvalidTransition, register_field_rules
from app.pricing.errors import PricingError

PROBLEM = "application/problem+json"


def _assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, object] = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert {"type", "title", "detail"} <= body.keys()
    return body


async def test_unknown_route_is_a_problem_404(client: httpx.AsyncClient) -> None:
    body = _assert_problem(await client.get("/v1/nothing-here"), 404, "not_found")
    assert "/v1/nothing-here" in str(body["detail"])


async def test_wrong_method_is_a_problem_405(client: httpx.AsyncClient) -> None:
    response = await client.put("/healthz")
    _assert_problem(response, 405, "method_not_allowed")
    assert "GET" in response.headers["allow"]


async def test_validation_failure_is_422_with_field_paths(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.post("/v1/api-keys", json={"role": "wizard"}, headers=admin)
    body = _assert_problem(response, 422, "validation_error")
    fields = {e["field"] for e in body["errors"]}  # type: ignore[attr-defined]
    assert fields == {"name", "role"}


async def test_malformed_json_is_422_not_500(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.post(
        "/v1/api-keys", content=b"{not json", headers={**admin, "content-type": "application/json"}
    )
    _assert_problem(response, 422, "validation_error")


class _Body(BaseModel):
    amount: int = Field(ge=0)


async def test_domain_errors_carry_code_rule_and_facts(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    async def late_notice() -> None:
        raise PricingError(
            "too late",
            code="notice_too_late",
            rule="R-TERM-3",
            facts={"earliest_effective_on": __import__("datetime").date(2026, 12, 11)},
        )

    app.add_api_route("/test/late-notice", late_notice)
    body = _assert_problem(await client.get("/test/late-notice"), 422, "notice_too_late")
    assert body["rule"] == "R-TERM-3"
    assert body["earliest_effective_on"] == "2026-12-11"


async def test_illegal_move_is_409_with_allowed_moves(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    async def illegal() -> None:
        raise InvalidTransition("no", current="applied", allowed=["accept", "reject"])

    app.add_api_route("/test/illegal", illegal)
    body = _assert_problem(await client.get("/test/illegal"), 409, "invalid_transition")
    assert body["rule"] == "R-LC-10"
    assert body["current_status"] == "applied"
    assert body["allowed"] == ["accept", "reject"]


async def test_unexpected_exception_is_500_with_request_id_and_no_trace(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    async def explode() -> None:
        raise RuntimeError("secret internals")

    app.add_api_route("/test/explode", explode)
    response = await client.get("/test/explode", headers={"X-Request-ID": "req-123"})
    body = _assert_problem(response, 500, "internal_error")
    assert body["request_id"] == "req-123"
    assert response.headers["x-request-id"] == "req-123"
    assert "secret internals" not in response.text
    assert "Traceback" not in response.text


class _Licence(BaseModel):
    license_ids: int = Field(ge=1)
    items: dict[str, int]
    note: str


async def test_validation_errors_name_the_rule_registered_for_the_field(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    register_field_rules({"license_ids": "R-CAT-2", "items": "R-CAT-4"})

    async def licence(body: _Licence) -> None:
        return None

    app.add_api_route("/test/licence", licence, methods=["POST"])
    response = await client.post(
        "/test/licence", json={"license_ids": 0, "items": {"basic": "x"}, "note": None}
    )
    body = _assert_problem(response, 422, "validation_error")
    rules = {e["field"]: e.get("rule") for e in body["errors"]}  # type: ignore[attr-defined]
    # A nested field takes the rule of its nearest registered ancestor.
    assert rules == {"license_ids": "R-CAT-2", "items.basic": "R-CAT-4", "note": None}
    assert "license_ids (R-CAT-2)" in str(body["detail"])


def test_a_field_cannot_be_registered_for_two_rules() -> None:
    register_field_rules({"license_ids": "R-CAT-2"})  # the same again is fine
    with pytest.raises(ValueError, match="R-CAT-2"):
        register_field_rules({"license_ids": "R-TERM-3"})
    assert FIELD_RULES["license_ids"] == "R-CAT-2"
