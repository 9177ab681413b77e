"""The OpenAPI document, made to tell the truth (issue 9 §6).

FastAPI documents a ``HTTPValidationError`` the server never sends and none of the
problem+json answers it does send. This module post-processes the generated document in
one place, from what each route really depends on:

- a ``require(...)`` key → 401 (no, unknown or revoked key) and 403 (role), and the roles
  that may call it in the description;
- a database session or connection → 503 ``database_unavailable`` with ``Retry-After``;
- a path id → 404; parameters → 422; a body → 413, 415 and 422;
- what a route declares with :func:`documents` (409, 412, ETag, Location).

Every error is ``application/problem+json`` through the one ``Problem`` schema (422 through
``ValidationProblem``, which adds ``errors``), and every response names ``X-Request-ID``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, cast

from fastapi import FastAPI, params, routing
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_flat_params
from fastapi.routing import APIRoute

from app.core.database import (
    get_read_connection,
    get_read_session,
    get_session,
    get_write_session,
)
from app.core.errors import PROBLEM_JSON, TYPE_BASE
from app.core.openapi_components import (
    IDEMPOTENCY_KEY_PARAMETER,
    SCHEMAS,
    headers,
    problem_schemas,
)
from app.core.openapi_examples import apply_examples

TAGS: list[dict[str, str]] = [
    {"name": "operations", "description": "Liveness, readiness and metrics; no key needed."},
    {
        "name": "api-keys",
        "description": "Admin only: issue, list and revoke the keys integrations use. A "
        "key's secret is shown once, when it is created.",
    },
    {
        "name": "price-books",
        "description": "Versioned tariffs: plans, options and fees from a month on "
        "(R-CAT-4). A version never changes; a later one supersedes it.",
    },
    {
        "name": "quotes",
        "description": "What a contract would cost, from the price book; stores nothing.",
    },
    {
        "name": "customers",
        "description": "The companies that contract: names, the billing name invoices are "
        "addressed to, contacts. Changes take `If-Match`.",
    },
    {
        "name": "contracts",
        "description": "Applications and their decisions, contract reads with history, and "
        "the preview of a month's invoice.",
    },
    {
        "name": "onboarding",
        "description": "From acceptance to the service start: milestones, the inspection "
        "and completion. Partners may record milestones.",
    },
    {
        "name": "contract changes",
        "description": "A running contract's licence, option and plan changes, "
        "suspensions, and endings (termination, cancellation) with their quotes.",
    },
    {
        "name": "charges",
        "description": "The ledger of non-recurring charges: one-time fees, ad-hoc charges "
        "and surcharges, each billed on the invoice of its month.",
    },
    {
        "name": "billing",
        "description": "Bill runs: one monthly invoice per contract and month, run in the "
        "background and followed by their counters.",
    },
    {
        "name": "invoices",
        "description": "Qualified invoices (適格請求書) and their PDFs, payments, voids, "
        "credit notes (返還インボイス) and late charges.",
    },
    {
        "name": "sandbox",
        "description": "Sandbox deployments only (`SCMS_SANDBOX=true`; 404 otherwise): move "
        "today forward and watch renewals, terminations, bill runs and overdue invoices "
        "happen, to rehearse an integration.",
    },
    {
        "name": "events",
        "description": "What happened, newest first: each change's event with the resource "
        "as its GET returned it then, for clients that missed a webhook.",
    },
    {
        "name": "webhooks",
        "description": "Admin only: endpoints that receive events, signed (Standard "
        "Webhooks) and retried for about 27 h; their deliveries, a test ping, a redelivery.",
    },
    {
        "name": "soc-reports",
        "description": "The SOC partner's status reports of contracts with `soc` (R-PTN-1); "
        "staff, CRM and the customer's portal read them.",
    },
    {
        "name": "audit-events",
        "description": "The operation log (R-PTN-2, Art. 32.3): every change with who, what, "
        "when, before and after, kept 90 days; NDJSON export to keep it longer.",
    },
    {
        "name": "stats",
        "description": "Anonymous monthly statistics (Art. 32.1(3)(4)): figures drawn from "
        "too few customers are suppressed.",
    },
]

# Each dependency that checks a key → the roles it lets in. app/auth's ``require(...)``
# records every one it makes, so the document can name who may call a route while the
# plumbing stays below the features.
ROUTE_ROLES: dict[Callable[..., Any], frozenset[str]] = {}

_HEADERS = "#/components/headers/"
_EXTRA = "x-scms"

# The statuses a route may declare beyond those derived from its dependencies.
DESCRIPTIONS: dict[int, str] = {
    401: "No API key, or an unknown or revoked one (`missing_api_key`, `invalid_api_key`).",
    403: "This key's role may not do this (`forbidden`); `allowed_roles` says who may.",
    404: "No such resource, or one this key may not see (`…_not_found`).",
    409: "The resource's current state does not allow this: `invalid_transition` with the "
    "`allowed` moves, or a conflict with another record (its own `code` and `rule`).",
    412: "`If-Match` does not match the current ETag (`precondition_failed`): read the "
    "resource again and reapply the change.",
    413: "The body is larger than the server accepts (`SCMS_MAX_BODY_BYTES`, 1 MiB by "
    "default); it is refused before it is read.",
    415: "The body is not `application/json`.",
    422: "Invalid input (`validation_error`, one entry per field in `errors`), or a request "
    "that breaks a business rule (its `code`, the `rule` id, and the facts that fix it).",
    503: "The database is unavailable (`database_unavailable`); retry after `Retry-After` seconds.",
}

_EXAMPLES: dict[int, dict[str, Any]] = {
    401: {"code": "missing_api_key", "detail": "Send an API key as 'Authorization: Bearer <key>'."},
    403: {
        "code": "forbidden",
        "detail": "A crm key may not do this.",
        "role": "crm",
        "allowed_roles": ["admin", "operator"],
    },
    404: {"code": "contract_not_found", "detail": "No contract ctr_01JD7X4K2M9Q8R5T3V6W0Y1Z2A."},
    409: {
        "code": "invalid_transition",
        "detail": "A terminated contract allows no changes.",
        "rule": "R-LC-10",
        "current_status": "terminated",
        "allowed": [],
    },
    412: {
        "code": "precondition_failed",
        "detail": "The customer has changed since you read it; read it again.",
    },
    413: {"code": "body_too_large", "detail": "The body exceeds 1048576 bytes."},
    415: {"code": "unsupported_media_type", "detail": "Send the body as application/json."},
    422: {
        "code": "validation_error",
        "detail": "Invalid or missing: effective_on.",
        "errors": [
            {
                "field": "effective_on",
                "in": "body",
                "message": "must be a date: use YYYY-MM-DD, not '2026/12/01'",
                "type": "date_from_datetime_parsing",
            }
        ],
    },
    503: {
        "code": "database_unavailable",
        "detail": "The database is unavailable; retry in a few seconds.",
    },
}

_TITLES = {
    401: "Authentication required",
    403: "Not allowed for this API key",
    404: "Not found",
    409: "Conflict",
    412: "The resource has changed",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "The request is not valid",
    503: "Service unavailable",
}


def documents(*statuses: int, etag: bool = False, location: bool = False) -> dict[str, Any]:
    """``openapi_extra`` for a route: the problem statuses it can answer beyond the derived
    ones, and whether its success response carries an ``ETag`` or a ``Location``."""
    unknown = set(statuses) - set(DESCRIPTIONS)
    if unknown:
        raise ValueError(f"no description for status {sorted(unknown)}")
    return {_EXTRA: {"statuses": list(statuses), "etag": etag, "location": location}}


def api_routes(app: FastAPI) -> Iterator[APIRoute]:
    """The documented routes with their effective path and dependencies (prefix and
    router dependencies applied), as the document generator sees them."""
    for context in routing.iter_route_contexts(app.routes):
        if isinstance(context.original_route, APIRoute) and context.include_in_schema:
            yield cast(APIRoute, context)


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _calls(sub)


def roles_of(route: APIRoute) -> frozenset[str] | None:
    """The roles a route lets in, or None when it needs no key."""
    for call in _calls(route.dependant):
        if call in ROUTE_ROLES:
            return ROUTE_ROLES[call]
    return None


def needs_key(route: APIRoute) -> bool:
    return roles_of(route) is not None


def uses_database(route: APIRoute) -> bool:
    return any(
        call in (get_session, get_write_session, get_read_session, get_read_connection)
        for call in _calls(route.dependant)
    )


def derived_statuses(route: APIRoute) -> set[int]:
    """The problem statuses that follow from what the route depends on."""
    inputs = get_flat_params(route.dependant)
    statuses: set[int] = set()
    if needs_key(route):
        statuses |= {401, 403}
    if uses_database(route):
        statuses.add(503)
    if any(isinstance(field.field_info, params.Path) for field in inputs):
        statuses.add(404)
    if inputs:
        statuses.add(422)
    if route.body_field is not None:
        statuses |= {413, 415, 422}  # undecodable bytes are 422 too (app/core/guard.py)
    return statuses


def _problem_content(status: int) -> dict[str, Any]:
    schema = "ValidationProblem" if status == 422 else "Problem"
    example = {
        "type": TYPE_BASE + _EXAMPLES[status]["code"],
        "title": _TITLES[status],
        "status": status,
        **_EXAMPLES[status],
    }
    return {PROBLEM_JSON: {"schema": {"$ref": SCHEMAS + schema}, "example": example}}


def _success_description(status: str, response: dict[str, Any]) -> str:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    if schema.get("$ref", "").startswith(SCHEMAS + "Page_"):
        return "A page, newest first; pass `next_cursor` as `cursor` for the next one."
    return {"201": "Created.", "202": "Accepted; it goes on in the background."}.get(status, "OK.")


def _header_refs(*names: str) -> dict[str, Any]:
    return {name: {"$ref": _HEADERS + name} for name in names}


_IDEMPOTENT_METHODS = frozenset({"post", "patch", "delete"})
_IDEMPOTENCY_NOTES = {
    "409": " With `Idempotency-Key`: `idempotency_key_in_use`, the first request with the key "
    "is still running (retry after `Retry-After`).",
    "422": " With `Idempotency-Key`: `idempotency_key_reused` (the key came with another "
    "request) or `invalid_idempotency_key`.",
}


def _document_idempotency(operation: dict[str, Any], responses: dict[str, Any]) -> None:
    """Issue 12 §1: the header every keyed POST, PATCH and DELETE takes, and its answers."""
    operation.setdefault("parameters", []).append(IDEMPOTENCY_KEY_PARAMETER)
    for status, note in _IDEMPOTENCY_NOTES.items():
        response = responses[status]
        response["description"] = response["description"] + note
        if status == "409":
            response["headers"] = {**response.get("headers", {}), **_header_refs("Retry-After")}
    for status, response in responses.items():
        if int(status) < 500:
            response["headers"] = {
                **response.get("headers", {}),
                **_header_refs("Idempotent-Replayed"),
            }


def _document_operation(operation: dict[str, Any], route: APIRoute, method: str) -> None:
    declared: dict[str, Any] = operation.pop(_EXTRA, {})
    responses: dict[str, Any] = operation["responses"]
    statuses = derived_statuses(route) | set(declared.get("statuses", ()))
    idempotent = method in _IDEMPOTENT_METHODS and needs_key(route)
    if idempotent:
        statuses |= {409, 422}
    # FastAPI's own 422 (HTTPValidationError) goes; a route's note on 422 is kept.
    note = responses.pop("422", {}).get("description", "Validation Error")
    if note != "Validation Error":
        responses["422"] = {"description": f"{DESCRIPTIONS[422]} Here: {note}"}
    # A status a route lists in `responses=` without a body of its own is a problem too.
    statuses |= {int(s) for s, r in responses.items() if int(s) >= 400 and "content" not in r}
    for status in sorted(statuses):
        response = responses.setdefault(str(status), {})
        response.setdefault("description", DESCRIPTIONS[status])
        response["content"] = _problem_content(status)
    roles = roles_of(route)
    if roles is not None:
        allowed = ", ".join(sorted(roles))
        text = operation.get("description", "").rstrip()
        operation["description"] = f"{text}\n\n**Keys:** {allowed}.".lstrip()
    success = str(route.status_code or 200)
    if responses.get(success, {}).get("description") == "Successful Response":
        responses[success]["description"] = _success_description(success, responses[success])
    for status, response in responses.items():
        names = ["X-Request-ID"]
        if status == success and declared.get("etag"):
            names.append("ETag")
        if status == success and declared.get("location"):
            names.append("Location")
        if status == "401":
            names.append("WWW-Authenticate")
        if status == "503":
            names.append("Retry-After")
        response["headers"] = {**response.get("headers", {}), **_header_refs(*names)}
    if idempotent:
        _document_idempotency(operation, responses)
    operation["responses"] = dict(sorted(responses.items()))


def tell_the_truth(document: dict[str, Any], app: FastAPI) -> dict[str, Any]:
    """Rewrite FastAPI's document in place so it says what the server really answers."""
    for route in api_routes(app):
        for method in route.methods or ():
            operation = document["paths"][route.path_format][method.lower()]
            _document_operation(operation, route, method.lower())
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas.update(problem_schemas())
    apply_examples(schemas)
    components["schemas"] = dict(sorted(schemas.items()))
    components["headers"] = headers()
    return document


def install_openapi(app: FastAPI) -> None:
    """Serve the truthful document at /openapi.json (and to `scms openapi`)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            tell_the_truth(generate(), app)
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]
