"""issue 9 §4: the bounded types of app/core/validation.py, and that every date, month and
amount a request carries is one of them (read off the OpenAPI document, so a new field
cannot slip past the window)."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, ValidationError

from app.core.clock import FixedClock
from app.core.validation import (
    MAX_YEN,
    OUTER_WINDOW,
    BusinessDate,
    BusinessMonth,
    BusinessWindow,
    Yen,
)
from tests.contracts.steps import at

Headers = dict[str, str]


class _Sample(BaseModel):
    on: BusinessDate
    maybe_on: BusinessDate | None = None
    month: BusinessMonth | None = None
    amount: Yen | None = None


def _error(**data: Any) -> dict[str, Any]:
    with pytest.raises(ValidationError) as refused:
        _Sample.model_validate({"on": "2026-01-01", **data})
    (error,) = refused.value.errors()
    return dict(error)


def test_issue_9_s4_the_window_runs_from_2000_to_december_of_tokyo_year_plus_5() -> None:
    window = BusinessWindow.on(date(2026, 11, 24))
    assert (window.first, window.last) == (date(2000, 1, 1), date(2031, 12, 31))
    assert (window.first_month, window.last_month) == ("2000-01", "2031-12")
    # The static outer bound caps it, whatever the clock says.
    assert BusinessWindow.on(date(2097, 1, 1)).last == date(2099, 12, 31)
    assert (OUTER_WINDOW.first, OUTER_WINDOW.last) == (date(2000, 1, 1), date(2099, 12, 31))


@pytest.mark.parametrize("value", ["0001-01-01", "1999-12-31", "2100-01-01", "9999-12-31"])
def test_issue_9_s4_outside_a_request_the_outer_window_applies(value: str) -> None:
    error = _error(maybe_on=value)
    assert error["type"] == "date_out_of_range"
    assert error["loc"] == ("maybe_on",)
    assert error["ctx"] == {"first_allowed": "2000-01-01", "last_allowed": "2099-12-31"}


@pytest.mark.parametrize("value", ["2000-01-01", "2099-12-31"])
def test_issue_9_s4_the_outer_window_includes_both_ends(value: str) -> None:
    assert _Sample.model_validate({"on": value}).on == date.fromisoformat(value)


@pytest.mark.parametrize("value", ["0001-01", "1999-12", "2100-01", "9999-12"])
def test_issue_9_s4_months_outside_the_window_are_refused(value: str) -> None:
    error = _error(month=value)
    assert error["type"] == "date_out_of_range"
    assert error["ctx"] == {"first_allowed": "2000-01", "last_allowed": "2099-12"}


def test_issue_9_s4_a_month_is_still_written_yyyy_mm() -> None:
    assert _error(month="2026-13")["type"] == "string_pattern_mismatch"
    assert _Sample.model_validate({"on": "2026-01-01", "month": "2000-01"}).month == "2000-01"


@pytest.mark.parametrize("value", [1e3, "1000", True, 0, -5, MAX_YEN + 1])
def test_issue_9_s4_yen_is_a_whole_positive_json_integer_up_to_10_12(value: object) -> None:
    _error(amount=value)


def test_issue_9_s4_yen_takes_10_12_exactly() -> None:
    assert _Sample.model_validate({"on": "2026-01-01", "amount": 10**12}).amount == 10**12
    # A JSON document: 1000 is an integer, 1e3 and 1000.0 are not.
    parsed = _Sample.model_validate_json('{"on": "2026-01-01", "amount": 1000}')
    assert parsed.amount == 1000
    for text in ("1e3", "1000.0"):
        with pytest.raises(ValidationError):
            _Sample.model_validate_json(f'{{"on": "2026-01-01", "amount": {text}}}')


# ---- every request field is bounded, read off the OpenAPI document -------------------


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = document["components"]["schemas"][name]
    return schema


def _walk(
    document: dict[str, Any], schema: dict[str, Any], where: str, seen: set[str]
) -> list[tuple[str, dict[str, Any]]]:
    """Every leaf schema reachable from ``schema``, with a dotted path to it."""
    if "$ref" in schema:
        if schema["$ref"] in seen:
            return []
        seen = seen | {schema["$ref"]}
    schema = _resolve(document, schema)
    found = [(where, schema)]
    for name, sub in schema.get("properties", {}).items():
        found += _walk(document, sub, f"{where}.{name}", seen)
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in schema.get(key, []):
            found += _walk(document, sub, where, seen)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            found += _walk(document, schema[key], f"{where}[]", seen)
    return found


def _request_leaves(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    leaves = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", []):
                leaves += _walk(
                    document, parameter["schema"], f"{where} ?{parameter['name']}", set()
                )
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body:
                leaves += _walk(document, body["schema"], f"{where} body", set())
    return leaves


@pytest.fixture
def request_leaves(app: FastAPI) -> list[tuple[str, dict[str, Any]]]:
    return _request_leaves(app.openapi())


def test_issue_9_s4_every_request_date_is_a_business_date(
    request_leaves: list[tuple[str, dict[str, Any]]],
) -> None:
    dates = [(where, s) for where, s in request_leaves if s.get("format") in ("date", "date-time")]
    bounded = {
        ("date", "2000-01-01", "2099-12-31"),
        # An instant (GET /v1/events ?since, issue 12 §2): the same years, in UTC.
        ("date-time", "2000-01-01T00:00:00Z", "2099-12-31T23:59:59Z"),
    }
    unbounded = [
        where
        for where, s in dates
        if (s.get("format"), s.get("formatMinimum"), s.get("formatMaximum")) not in bounded
    ]
    assert unbounded == []
    # The walk does reach them: applications, onboarding, changes, payments, quotes, …
    assert len({where for where, _ in dates}) >= 29
    assert "GET /v1/contracts/{contract_id}/termination-quote ?notice_on" in {w for w, _ in dates}
    assert "GET /v1/invoices/{invoice_id}/late-charge ?as_of" in {w for w, _ in dates}


def test_issue_9_s4_every_request_month_is_a_business_month(
    request_leaves: list[tuple[str, dict[str, Any]]],
) -> None:
    months = [
        where
        for where, s in request_leaves
        if s.get("type") == "string" and "(0[1-9]|1[0-2])" in s.get("pattern", "")
    ]
    assert set(months) >= {
        "POST /v1/billing-runs body.month",
        "POST /v1/contracts/{contract_id}/charges body.month",
        "GET /v1/contracts/{contract_id}/invoice-preview ?month",
        "GET /v1/invoices ?month",
    }
    patterns = {
        s["pattern"]
        for where, s in request_leaves
        if s.get("type") == "string" and "(0[1-9]|1[0-2])" in s.get("pattern", "")
    }
    assert patterns == {r"^20\d{2}-(0[1-9]|1[0-2])$"}


def test_issue_9_s4_every_request_amount_is_positive_yen_up_to_10_12(
    request_leaves: list[tuple[str, dict[str, Any]]],
) -> None:
    amounts = [(where, s) for where, s in request_leaves if where.endswith(".amount")]
    assert {where for where, _ in amounts} >= {
        "POST /v1/invoices/{invoice_id}/payments body.amount",
        "POST /v1/invoices/{invoice_id}/credit-notes body.lines[].amount",
        "POST /v1/contracts/{contract_id}/charges body.amount",
        "POST /v1/contracts/{contract_id}/terminations body.costs[].amount",
        "POST /v1/contracts/{contract_id}/cancellation body.actual_costs[].amount",
    }
    for where, s in amounts:
        assert (s["type"], s.get("exclusiveMinimum"), s["maximum"]) == ("integer", 0, MAX_YEN), (
            where
        )


# ---- the upper bound follows the request's clock --------------------------------------


async def _quote_on(client: httpx.AsyncClient, headers: Headers, on: str) -> httpx.Response:
    body = {"plan": "foundation-essential", "license_ids": 50, "onboarding_kind": "simple"}
    return await client.post("/v1/quotes", json={**body, "on": on}, headers=headers)


async def test_issue_9_s4_the_last_allowed_day_moves_with_the_request_clock(
    client: httpx.AsyncClient, admin: Headers, clock: FixedClock
) -> None:
    """Today 2026-11-24: up to 2031-12-31. On 2027-01-01 the window reaches 2032-12-31."""
    assert (await _quote_on(client, admin, "2031-12-31")).status_code == 200
    refused = await _quote_on(client, admin, "2032-01-01")
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert body["code"] == "validation_error"
    (error,) = body["errors"]
    assert (error["field"], error["in"], error["type"]) == ("on", "body", "date_out_of_range")
    assert (error["first_allowed"], error["last_allowed"]) == ("2000-01-01", "2031-12-31")
    assert "2000-01-01" in error["message"]
    assert "2031-12-31" in error["message"]
    at(clock, date(2027, 1, 1))
    assert (await _quote_on(client, admin, "2032-01-01")).status_code == 200
    assert (await _quote_on(client, admin, "2033-01-01")).status_code == 422
