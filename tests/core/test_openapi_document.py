"""issue 9 §6: the OpenAPI document tells the truth.

Walks the document the app serves: every operation is described for a human, tagged with
a declared tag, and documents the problem+json answers it can really give through the one
shared Problem schema (FastAPI's HTTPValidationError appears nowhere).
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any

import httpx
import pytest
from fastapi import FastAPI, params
from fastapi.dependencies.utils import get_flat_params
from fastapi.routing import APIRoute
from pydantic import BaseModel, TypeAdapter

from app.auth.roles import Role
from app.core.openapi import api_routes, needs_key, roles_of
from app.core.openapi_examples import REQUEST_EXAMPLES, RESPONSE_EXAMPLES
from tests.conftest import KeyFactory

PROBLEM = "application/problem+json"
PROBLEM_REF = "#/components/schemas/Problem"
VALIDATION_REF = "#/components/schemas/ValidationProblem"
Operation = tuple[str, str, dict[str, Any]]


@pytest.fixture
async def document(client: httpx.AsyncClient) -> dict[str, Any]:
    served: dict[str, Any] = (await client.get("/openapi.json")).json()
    return served


def _operations(document: dict[str, Any]) -> list[Operation]:
    return [
        (method.upper(), path, op)
        for path, ops in document["paths"].items()
        for method, op in ops.items()
    ]


def _routes(app: FastAPI) -> dict[tuple[str, str], APIRoute]:
    return {
        (method, route.path_format): route
        for route in api_routes(app)
        for method in route.methods or ()
    }


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        for value in node.values():
            found |= _refs(value)
        return found
    if isinstance(node, list):
        return set().union(*(_refs(v) for v in node)) if node else set()
    return set()


def _resolve(document: dict[str, Any], ref: str) -> dict[str, Any]:
    node: dict[str, Any] = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def test_issue_9_s6_no_http_validation_error_anywhere(document: dict[str, Any]) -> None:
    text = json.dumps(document)
    assert "HTTPValidationError" not in text
    assert '"ValidationError"' not in text
    assert "#/components/schemas/ValidationError" not in text


def test_issue_9_s6_every_operation_has_a_human_summary_and_description(
    app: FastAPI, document: dict[str, Any]
) -> None:
    routes = _routes(app)
    for method, path, op in _operations(document):
        route = routes[(method, path)]
        default = route.name.replace("_", " ").title()
        summary = op.get("summary", "")
        where = f"{method} {path}: summary {summary!r}"
        assert summary, where
        assert summary != default, where
        assert summary[0].isupper(), where
        assert not summary.endswith("."), where
        assert len(op.get("description", "")) >= 20, f"{method} {path} has no description"


def test_issue_9_s6_every_tag_is_declared_with_a_description(document: dict[str, Any]) -> None:
    declared = {t["name"]: t.get("description", "") for t in document.get("tags", [])}
    assert all(declared.values()), declared
    used = set()
    for method, path, op in _operations(document):
        assert len(op.get("tags", [])) == 1, f"{method} {path}"
        assert op["tags"][0] in declared, f"{method} {path}: tag {op['tags']} not declared"
        used |= set(op["tags"])
    assert used == set(declared), "a declared tag no operation uses"


def test_issue_9_s6_error_responses_are_problem_json_through_the_shared_schema(
    document: dict[str, Any],
) -> None:
    schemas = document["components"]["schemas"]
    assert {"type", "title", "status", "detail", "code"} <= set(schemas["Problem"]["required"])
    assert {"$ref": PROBLEM_REF} in schemas["ValidationProblem"]["allOf"]
    for method, path, op in _operations(document):
        for status, response in op["responses"].items():
            if int(status) < 400 or path == "/readyz":
                continue
            content = response.get("content", {})
            assert list(content) == [PROBLEM], f"{method} {path} {status}: {list(content)}"
            ref = content[PROBLEM]["schema"].get("$ref")
            expected = VALIDATION_REF if status == "422" else PROBLEM_REF
            assert ref == expected, f"{method} {path} {status}: {ref}"


def test_issue_9_s6_statuses_follow_from_what_the_route_needs(
    app: FastAPI, document: dict[str, Any]
) -> None:
    routes = _routes(app)
    for method, path, op in _operations(document):
        route = routes[(method, path)]
        statuses = set(op["responses"])
        where = f"{method} {path}: {sorted(statuses)}"
        if needs_key(route):
            assert {"401", "403", "503"} <= statuses, where
            assert op.get("security"), where
        else:
            assert not statuses & {"401", "403"}, where
        inputs = get_flat_params(route.dependant)
        if any(isinstance(field.field_info, params.Path) for field in inputs):
            assert "404" in statuses, where
        has_input = bool(inputs)
        if route.body_field is not None:
            assert {"413", "415", "422"} <= statuses, where
        elif has_input:
            assert "422" in statuses, where
        else:
            assert "422" not in statuses, where


def test_issue_9_s6_responses_document_their_headers(document: dict[str, Any]) -> None:
    headers = document["components"]["headers"]
    assert {"X-Request-ID", "ETag", "Location", "Retry-After"} <= set(headers)
    for method, path, op in _operations(document):
        for status, response in op["responses"].items():
            names = set(response.get("headers", {}))
            assert "X-Request-ID" in names, f"{method} {path} {status}"
            if status == "503":
                assert "Retry-After" in names, f"{method} {path} {status}"
            if status == "201":
                assert "Location" in names or not _creates_addressable(path), (
                    f"{method} {path} 201 without Location"
                )
    paths = document["paths"]
    for method, path in [
        ("get", "/v1/customers/{customer_id}"),
        ("patch", "/v1/customers/{customer_id}"),
        ("get", "/v1/contracts/{contract_id}"),
        ("get", "/v1/invoices/{invoice_id}"),
    ]:
        assert "ETag" in paths[path][method]["responses"]["200"]["headers"], f"{method} {path}"
    assert "412" in paths["/v1/customers/{customer_id}"]["patch"]["responses"]


def _creates_addressable(path: str) -> bool:
    return path in {"/v1/customers", "/v1/contracts", "/v1/api-keys", "/v1/price-books"}


async def test_issue_9_s6_documented_headers_are_really_sent(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    created = await client.post(
        "/v1/customers",
        json={
            "name": "株式会社サンプル商事",
            "billing_name": "株式会社サンプル商事 経理部",
            "email": "keiri@sample-shoji.co.jp",
        },
        headers=admin,
    )
    assert created.status_code == 201, created.text
    assert created.headers["location"] == f"/v1/customers/{created.json()['id']}"
    assert created.headers["etag"]
    assert created.headers["x-request-id"]
    key = await client.post("/v1/api-keys", json={"name": "CRM", "role": "crm"}, headers=admin)
    assert key.headers["location"] == f"/v1/api-keys/{key.json()['id']}"
    problem = await client.get("/v1/customers")
    assert problem.status_code == 401
    assert problem.headers["x-request-id"]


def test_issue_9_s6_lists_answer_items_and_next_cursor(document: dict[str, Any]) -> None:
    for method, path, op in _operations(document):
        if method != "GET" or "200" not in op["responses"]:
            continue
        schema = op["responses"]["200"].get("content", {}).get("application/json", {})
        schema = schema.get("schema", {})
        assert schema.get("type") != "array", f"{path} answers a bare array"
        names = {p["name"] for p in op.get("parameters", [])}
        if "$ref" in schema and schema["$ref"].split("/")[-1].startswith("Page_"):
            assert {"limit", "cursor"} <= names, path
    for path in ("license-changes", "suspensions"):
        op = document["paths"][f"/v1/contracts/{{contract_id}}/{path}"]["get"]
        ref = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        assert ref.split("/")[-1].startswith("Page_"), path


def test_issue_9_s6_every_request_body_has_an_example(document: dict[str, Any]) -> None:
    for method, path, op in _operations(document):
        body = op.get("requestBody")
        if body is None:
            continue
        schema = body["content"]["application/json"]["schema"]
        refs = sorted(r for r in _refs(schema) if r.startswith("#/components/schemas/"))
        assert refs, f"{method} {path}"
        resolved = _resolve(document, refs[0])
        assert resolved.get("examples"), f"{method} {path}: {refs[0]} has no examples"


def _models() -> list[type[BaseModel]]:
    seen: list[type[BaseModel]] = []
    todo = list(BaseModel.__subclasses__())
    while todo:
        model = todo.pop()
        if model.__module__.startswith("app.") and model not in seen:
            seen.append(model)
        todo.extend(model.__subclasses__())
    return seen


def test_issue_9_s6_every_example_is_valid_for_its_own_schema() -> None:
    models = {model.__name__: model for model in _models()}
    checked = 0
    for name, examples in {**REQUEST_EXAMPLES, **RESPONSE_EXAMPLES}.items():
        for example in examples:
            models[name].model_validate(example)
            checked += 1
    for model in models.values():
        for field in model.model_fields.values():
            annotated: Any = (
                Annotated[field.annotation, *field.metadata] if field.metadata else field.annotation
            )
            adapter: TypeAdapter[Any] = TypeAdapter(annotated)
            for example in field.examples or []:
                adapter.validate_python(example)
                checked += 1
    assert checked >= 30


async def test_issue_9_s6_what_the_server_answers_is_documented(
    app: FastAPI, client: httpx.AsyncClient, document: dict[str, Any], make_key: KeyFactory
) -> None:
    """Every operation, called with no key, a key of a role it refuses, and an admin key on
    ids that do not exist: each answer's status and content type are in the document."""
    keys = {role: await make_key(role) for role in Role if role is not Role.PORTAL}
    answers = 0
    for (method, path), route in _routes(app).items():
        documented = document["paths"][path][method.lower()]["responses"]
        url = re.sub(r"\{[^}]+\}", "nope", path)
        body: dict[str, Any] | None = {} if route.body_field is not None else None
        attempts: list[dict[str, str]] = [{}, keys[Role.ADMIN]]
        roles = roles_of(route)
        refused = [r for r in keys if roles is not None and r not in roles]
        if refused:
            attempts.append(keys[refused[0]])
        for headers in attempts:
            response = await client.request(method, url, json=body, headers=headers)
            where = f"{method} {path} with {headers or 'no key'}: {response.status_code}"
            assert str(response.status_code) in documented, where
            media = response.headers["content-type"].split(";")[0]
            assert media in documented[str(response.status_code)].get("content", {}), where
            answers += 1
    assert answers > 100
