"""The shared components of the OpenAPI document: the Problem schemas every error
answers with, and the headers responses name (app/core/openapi.py puts them in)."""

from __future__ import annotations

from typing import Any

from app.core.errors import TYPE_BASE

SCHEMAS = "#/components/schemas/"


def problem_schemas() -> dict[str, Any]:
    return {
        "Problem": {
            "title": "Problem",
            "description": "RFC 9457 problem details, the body of every error. Domain "
            "errors add the facts a client needs to fix its request (e.g. `allowed`, "
            "`earliest_allowed`, `field`).",
            "type": "object",
            "required": ["type", "title", "status", "detail", "code"],
            "properties": {
                "type": {
                    "type": "string",
                    "format": "uri",
                    "description": f"`{TYPE_BASE}` + `code`.",
                    "examples": [TYPE_BASE + "invalid_transition"],
                },
                "title": {"type": "string", "examples": ["Not allowed in the current state"]},
                "status": {"type": "integer", "examples": [409]},
                "detail": {
                    "type": "string",
                    "description": "What went wrong, for a human.",
                    "examples": ["A terminated contract allows no changes."],
                },
                "code": {
                    "type": "string",
                    "description": "Stable, machine-readable; branch on this.",
                    "examples": ["invalid_transition"],
                },
                "instance": {
                    "type": "string",
                    "examples": ["/v1/contracts/ctr_01JD7X4K2M9Q8R5T3V6W0Y1Z2A"],
                },
                "rule": {
                    "type": "string",
                    "description": "The business rule the request breaks.",
                    "examples": ["R-LC-10"],
                },
                "request_id": {
                    "type": "string",
                    "description": "Also in `X-Request-ID`; quote it when reporting.",
                    "examples": ["4f9c2a7e1b3d4c5e8f60718293a4b5c6"],
                },
            },
            "additionalProperties": True,
        },
        "ValidationProblem": {
            "title": "ValidationProblem",
            "description": "A 422 Problem. `validation_error` lists each invalid field in "
            "`errors`; a broken business rule names its `rule` instead.",
            "allOf": [
                {"$ref": SCHEMAS + "Problem"},
                {
                    "type": "object",
                    "properties": {
                        "errors": {"type": "array", "items": {"$ref": SCHEMAS + "InvalidField"}}
                    },
                    "if": {
                        "properties": {"code": {"const": "validation_error"}},
                        "required": ["code"],
                    },
                    "then": {"required": ["errors"]},
                },
            ],
        },
        "InvalidField": {
            "title": "InvalidField",
            "type": "object",
            "required": ["field", "in", "message", "type"],
            "properties": {
                "field": {"type": "string", "examples": ["items.basic"]},
                "in": {"type": "string", "enum": ["body", "query", "path", "header", "cookie"]},
                "message": {
                    "type": "string",
                    "description": "What is accepted, in plain words.",
                    "examples": ["must be a date: use YYYY-MM-DD, not '2026/12/01'"],
                },
                "type": {"type": "string", "examples": ["date_from_datetime_parsing"]},
                "rule": {"type": "string", "examples": ["R-CAT-2"]},
                "line": {"type": "integer", "description": "Malformed JSON: the line."},
                "column": {"type": "integer", "description": "Malformed JSON: the column."},
            },
        },
    }


def headers() -> dict[str, Any]:
    return {
        "X-Request-ID": {
            "description": "The request's id: the one sent (when valid), else a new one. "
            "Every log line of the request carries it.",
            "schema": {"type": "string", "examples": ["4f9c2a7e1b3d4c5e8f60718293a4b5c6"]},
        },
        "ETag": {
            "description": "The resource's version; send it back as `If-Match`.",
            "schema": {"type": "string", "examples": ['"cus_01KBQ7Z3M4N5P6Q7R8S9T0V1W2.v3"']},
        },
        "Location": {
            "description": "The URL of the resource just created.",
            "schema": {
                "type": "string",
                "examples": ["/v1/customers/cus_01KBQ7Z3M4N5P6Q7R8S9T0V1W2"],
            },
        },
        "Retry-After": {
            "description": "Seconds to wait before retrying.",
            "schema": {"type": "integer", "examples": [5]},
        },
        "WWW-Authenticate": {
            "description": "The scheme to authenticate with.",
            "schema": {"type": "string", "examples": ['Bearer realm="scms"']},
        },
        "Idempotent-Replayed": {
            "description": "`true` when this is the stored answer to an earlier request "
            "with the same `Idempotency-Key` (issue 12 §1); absent on a first answer.",
            "schema": {"type": "string", "enum": ["true"]},
        },
    }


IDEMPOTENCY_KEY_PARAMETER: dict[str, Any] = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Makes a retry safe: the same key (per API key, kept 24 h) with the same "
    "request answers the first answer again (`Idempotent-Replayed: true`) without doing it "
    "twice; with another request, 422 `idempotency_key_reused`; while the first is still "
    "running, 409 `idempotency_key_in_use` with `Retry-After`. A 5xx is not kept: retry it.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}
