"""Issue 11: a LeanRoute answers exactly what FastAPI's own route answers, for good and bad
input alike, while solving its parameters from a plan made once.

Each case is sent to the same endpoints declared twice, once as plain ``APIRoute`` and
once as ``LeanRoute``; the two answers must be the same. (No ``from __future__ import
annotations`` here: FastAPI reads the annotations of these local functions at once.)
"""

from collections.abc import AsyncIterator
from typing import Annotated, Any

import httpx
import pytest
from fastapi import (
    APIRouter,
    Depends,
    FastAPI,
    Header,
    HTTPException,
    Path,
    Query,
    Request,
)
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.responses import JSONResponse, Response

from app.core.lean import LeanRoute, lean_get, lean_post


class Body(BaseModel):
    name: str


def _app(route_class: type[APIRoute], events: list[str]) -> FastAPI:
    calls: dict[str, int] = {"shared": 0}

    async def shared() -> int:
        calls["shared"] += 1
        return calls["shared"]

    async def needs_shared(value: Annotated[int, Depends(shared)]) -> int:
        return value

    async def resource(request: Request) -> AsyncIterator[str]:
        events.append("open")
        try:
            yield "resource"
        except Exception:
            events.append("failed")
            raise
        finally:
            events.append("close")

    async def role(x_role: Annotated[str, Header()] = "reader") -> str:
        if x_role != "reader":
            raise HTTPException(403, "forbidden")
        return x_role

    async def limit_of(limit: Annotated[int, Query(ge=1, le=200)] = 50) -> int:
        return limit

    router = APIRouter(prefix="/items", route_class=route_class)

    @router.get("/{item_id}")
    async def read(
        item_id: Annotated[str, Path(max_length=5)],
        limit: Annotated[int, Depends(limit_of)],
        who: Annotated[str, Depends(role)],
        first: Annotated[int, Depends(needs_shared)],
        second: Annotated[int, Depends(shared)],
        thing: Annotated[str, Depends(resource)],
        flag: Annotated[bool, Query()] = False,
    ) -> Response:
        events.append("endpoint")
        if item_id == "boom":
            raise HTTPException(409, "conflict")
        payload = {"id": item_id, "limit": limit, "who": who, "flag": flag}
        payload |= {"shared": [first, second], "thing": thing}
        return JSONResponse(payload)

    @router.post("/{item_id}/notes")
    async def note(
        item_id: Annotated[str, Path(max_length=5)],
        body: Body,
        who: Annotated[str, Depends(role)],
        thing: Annotated[str, Depends(resource)],
    ) -> Response:
        events.append("endpoint")
        return JSONResponse({"id": item_id, "name": body.name, "who": who, "thing": thing})

    app = FastAPI()
    app.include_router(router)
    return app


_JSON = {"content-type": "application/json"}
_TEXT = {"content-type": "text/plain"}
_MERGE_PATCH = {"content-type": "application/merge-patch+json"}
_ADMIN = {"x-role": "admin"}

CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "/items/a1", {}),
    ("GET", "/items/a1?limit=7&flag=true", {}),
    ("GET", "/items/a1?limit=0", {}),
    ("GET", "/items/a1?limit=x&flag=maybe", {}),
    ("GET", "/items/toolong", {}),
    ("GET", "/items/a1?limit=0", {"headers": {"x-role": "admin"}}),  # 403 before the 422
    ("GET", "/items/boom", {}),
    ("GET", "/items/a1?limit=3&limit=4", {}),
    ("GET", "/items/a1?flag=", {"headers": {"x-role": "reader"}}),
    # A JSON body: read before the dependencies run, validated after them.
    ("POST", "/items/a1/notes", {"json": {"name": "x"}}),
    ("POST", "/items/a1/notes", {"content": b'{"name": "x"', "headers": _JSON}),
    ("POST", "/items/a1/notes", {"content": b"", "headers": _JSON}),
    ("POST", "/items/a1/notes", {"json": {"name": 1}}),
    ("POST", "/items/a1/notes", {"json": {}}),
    ("POST", "/items/a1/notes", {"json": ["x"]}),
    ("POST", "/items/a1/notes", {"content": b'{"name": "x"}', "headers": _TEXT}),
    ("POST", "/items/a1/notes", {"content": b'{"name": "x"}'}),  # no content type
    ("POST", "/items/a1/notes", {"content": b'{"name": "x"}', "headers": _MERGE_PATCH}),
    ("POST", "/items/a1/notes", {"content": b"{nope", "headers": _JSON | _ADMIN}),
    ("POST", "/items/a1/notes", {"json": {"name": 1}, "headers": _ADMIN}),  # 403 first
    ("POST", "/items/toolong/notes", {"json": {"name": 1}}),  # both errors, in order
    # Nested too deep for the JSON decoder: FastAPI's 400, not a 500.
    ("POST", "/items/a1/notes", {"content": b"[" * 100_000 + b"]" * 100_000, "headers": _JSON}),
]


async def _answer(route_class: type[APIRoute], method: str, url: str, **kw: Any) -> Any:
    events: list[str] = []
    transport = httpx.ASGITransport(app=_app(route_class, events))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.request(method, url, **kw)
    return response.status_code, response.json(), events


@pytest.mark.parametrize(("method", "url", "kw"), CASES)
async def test_issue_11_a_lean_route_answers_as_fastapi_does(
    method: str, url: str, kw: dict[str, Any]
) -> None:
    lean = await _answer(LeanRoute, method, url, **kw)
    plain = await _answer(APIRoute, method, url, **kw)
    assert lean == plain


async def test_issue_11_a_dependency_runs_once_per_request_and_a_generator_closes_after() -> None:
    status, body, events = await _answer(LeanRoute, "GET", "/items/a1")
    assert status == 200
    assert body["shared"] == [1, 1]  # cached within the request, as FastAPI's use_cache
    assert events == ["open", "endpoint", "close"]
    status, _, events = await _answer(LeanRoute, "GET", "/items/boom")
    assert status == 409
    assert events == ["open", "endpoint", "failed", "close"]  # the session rolls back


def test_issue_11_a_lean_route_refuses_what_it_would_solve_slowly_or_wrongly() -> None:
    def sync_dependency() -> int:
        return 1

    router = APIRouter()
    with pytest.raises(TypeError, match="not async"):

        @lean_get(router, "/sync")
        async def uses_sync(value: Annotated[int, Depends(sync_dependency)]) -> Response:
            return Response()

    with pytest.raises(TypeError, match="does not solve"):

        @lean_get(router, "/response")
        async def uses_response(response: Response) -> Response:
            return response

    async def reads_a_body(body: Body) -> str:
        return body.name

    with pytest.raises(TypeError, match="does not solve a body"):

        @lean_get(router, "/body-in-a-dependency")
        async def uses_a_body(name: Annotated[str, Depends(reads_a_body)]) -> Response:
            return Response()

    with pytest.raises(TypeError, match="does not solve a body but one JSON parameter"):

        @lean_post(router, "/two-bodies")
        async def uses_two_bodies(first: Body, second: Body) -> Response:
            return Response()


async def test_issue_11_a_lean_endpoint_answers_a_response() -> None:
    router = APIRouter()

    @lean_get(router, "/model")
    async def answers_a_dict() -> Response:
        return {"a": 1}  # type: ignore[return-value]

    app = FastAPI()
    app.include_router(router)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=True)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        with pytest.raises(TypeError, match="answers a Response"):
            await client.get("/model")
