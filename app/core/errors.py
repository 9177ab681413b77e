"""Errors the API can return, and the one place that renders them as problem+json.

Every error response is RFC 9457 ``application/problem+json`` with ``type``, ``title``,
``status``, ``detail`` and a stable ``code``; domain errors add the ``rule`` id and the
facts a client needs to fix its request.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

from app.core.validation_messages import json_position, plain_message
from app.pricing.errors import PricingError

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://scms.example/problems/"


class AppError(Exception):
    """Base of every error the service raises on purpose."""

    status: int = 400
    code: str = "bad_request"
    title: str = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        rule: str | None = None,
        code: str | None = None,
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
        **facts: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.rule = rule
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.headers = dict(headers or {})
        self.facts = facts


class Unauthenticated(AppError):
    status, code, title = 401, "unauthenticated", "Authentication required"


class Forbidden(AppError):
    status, code, title = 403, "forbidden", "Not allowed for this API key"


class NotFound(AppError):
    status, code, title = 404, "not_found", "Not found"


class Conflict(AppError):
    status, code, title = 409, "conflict", "Conflict"


class InvalidTransition(Conflict):
    """A move the current state does not allow (R-LC-10): says which moves are allowed."""

    code, title = "invalid_transition", "Not allowed in the current state"

    def __init__(self, detail: str, *, current: str, allowed: Sequence[str], **facts: Any):
        super().__init__(
            detail, rule="R-LC-10", current_status=current, allowed=list(allowed), **facts
        )


class PreconditionFailed(AppError):
    status, code, title = 412, "precondition_failed", "The resource has changed"


class Unprocessable(AppError):
    status, code, title = 422, "unprocessable", "The request breaks a business rule"


def _jsonable(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    return value


def problem(
    request: Request,
    *,
    status: int,
    code: str,
    title: str,
    detail: str,
    rule: str | None = None,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": TYPE_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "instance": request.url.path,
    }
    if rule is not None:
        body["rule"] = rule
    body.update(_jsonable(extra or {}))
    request_id = request.scope.get("state", {}).get("request_id")
    if request_id:
        body["request_id"] = request_id
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


async def _app_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return problem(
        request,
        status=exc.status,
        code=exc.code,
        title=exc.title,
        detail=exc.detail,
        rule=exc.rule,
        headers=exc.headers,
        extra=exc.facts,
    )


async def _pricing_error(request: Request, exc: Exception) -> JSONResponse:
    # The pure domain raises plain exceptions; a broken business rule is a 422.
    assert isinstance(exc, PricingError)
    return problem(
        request,
        status=422,
        code=exc.code,
        title="The request breaks a business rule",
        detail=str(exc),
        rule=exc.rule,
        extra=exc.facts,
    )


_HTTP_CODES = {
    400: ("bad_request", "Bad request"),
    404: ("not_found", "Not found"),
    405: ("method_not_allowed", "Method not allowed"),
    406: ("not_acceptable", "Not acceptable"),
    415: ("unsupported_media_type", "Unsupported media type"),
}


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400:
        # FastAPI's only 400: a body its JSON parser gave up on (nested deeper than the
        # parser recurses, say). Invalid input like any other: 422, as documented.
        return problem(
            request,
            status=422,
            code="validation_error",
            title="The request is not valid",
            detail="The body could not be parsed as JSON: it is nested too deeply or is "
            "not JSON text.",
            extra={
                "errors": [
                    {
                        "field": "body",
                        "in": "body",
                        "message": "could not be parsed as JSON (nested too deeply?)",
                        "type": "json_invalid",
                    }
                ]
            },
        )
    code, title = _HTTP_CODES.get(exc.status_code, ("http_error", "HTTP error"))
    detail = exc.detail if isinstance(exc.detail, str) else title
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"No route matches {request.method} {request.url.path}."
    if exc.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path}."
    return problem(
        request,
        status=exc.status_code,
        code=code,
        title=title,
        detail=detail,
        headers=exc.headers,
    )


_LOCATIONS = ("body", "query", "path", "header")

# Field name → the rule id its validation enforces (e.g. "license_ids" → "R-CAT-2").
# Features register theirs at import time with register_field_rules.
FIELD_RULES: dict[str, str] = {}


def register_field_rules(mapping: Mapping[str, str]) -> None:
    """Name the rule each field's validation enforces, so a 422 can say which it broke.

    One name means one rule across the API: registering a name again with another rule
    is a programming error, refused at import rather than answered ambiguously.
    """
    for name, rule in mapping.items():
        known = FIELD_RULES.setdefault(name, rule)
        if known != rule:
            raise ValueError(f"field {name!r} is already registered for {known}, not {rule}")


def _field_path(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc if p not in _LOCATIONS]
    return ".".join(parts) or ".".join(str(p) for p in loc)


def _field_rule(loc: Sequence[Any]) -> str | None:
    """The rule of the nearest registered name on the path, the leaf first.

    ``items.basic`` has no rule of its own and takes that of ``items``.
    """
    for part in reversed(loc):
        if isinstance(part, str) and part not in _LOCATIONS and part in FIELD_RULES:
            return FIELD_RULES[part]
    return None


def _error_entry(err: Mapping[str, Any]) -> dict[str, Any]:
    loc = err.get("loc", ())
    entry: dict[str, Any] = {
        "field": _field_path(loc),
        "in": str(loc[0]) if loc else "body",
        "message": plain_message(err),
        "type": err.get("type", "value_error"),
    }
    rule = _field_rule(loc)
    if rule is not None:
        entry["rule"] = rule
    # issue 9 §4: a date or month outside the business window names the window.
    ctx = err.get("ctx") or {}
    for key in ("first_allowed", "last_allowed"):
        if key in ctx:
            entry[key] = str(ctx[key])
    return entry


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        json_position(err, exc.body) if err.get("type") == "json_invalid" else _error_entry(err)
        for err in exc.errors()
    ]
    fields = ", ".join(f"{e['field']} ({e['rule']})" if "rule" in e else e["field"] for e in errors)
    detail = f"Invalid or missing: {fields}."
    if errors and errors[0]["type"] == "json_invalid":
        detail = f"The body {errors[0]['message']}."
    return problem(
        request,
        status=422,
        code="validation_error",
        title="The request is not valid",
        detail=detail,
        extra={"errors": errors},
    )


def internal_error_response(path: str, request_id: str) -> JSONResponse:
    """The 500 answer: no stack trace, only the id that finds the trace in the log."""
    body = {
        "type": TYPE_BASE + "internal_error",
        "title": "Internal server error",
        "status": 500,
        "detail": "An unexpected error occurred; quote the request_id when reporting it.",
        "code": "internal_error",
        "instance": path,
        "request_id": request_id,
    }
    return JSONResponse(body, status_code=500, media_type=PROBLEM_JSON)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(PricingError, _pricing_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    # The database away (a 503) is app/core/outage.py's install_outage_handler.
    # Unexpected exceptions are answered by RequestContextMiddleware, which owns the
    # request id and the log line.
