"""Issue 11: the route index picks the route FastAPI's own loop picks, for every route of
the service, and leaves what it cannot answer (404, 405, the slash redirect) to FastAPI.
(No ``from __future__ import annotations``: FastAPI reads the local endpoints' hints.)"""

import re
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Match

from app.core.routing import RouteIndex, path_key
from app.core.settings import Settings
from app.main import create_app


def _scope(path: str, method: str = "GET") -> dict[str, Any]:
    return {
        "type": "http",
        "method": method,
        "path": path,
        "root_path": "",
        "query_string": b"",
        "headers": [],
    }


def _fastapi_choice(app: FastAPI, scope: dict[str, Any]) -> BaseRoute | None:
    """The top-level route FastAPI's router loop picks: the first full match."""
    for route in app.router.routes:
        match, _ = route.matches(dict(scope))
        if match == Match.FULL:
            return route
    return None


def _index_choice(app: FastAPI, scope: dict[str, Any]) -> BaseRoute | None:
    index = app.router.middleware_stack
    assert isinstance(index, RouteIndex)
    chosen = index.choose(dict(scope))
    return None if chosen is None else chosen[0]


def _sample(template: str) -> str:
    return re.sub(r"\{[^}:]+:path\}", "a/b", re.sub(r"\{[^}:]+\}", "x_1", template))


@pytest.fixture(scope="module")
def service() -> FastAPI:
    return create_app(Settings(database_url="sqlite+aiosqlite:///:memory:"))


def _every_route(app: FastAPI) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for route in app.router.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        for context in contexts() if contexts else [route]:
            path = str(getattr(context, "path_format", None) or getattr(route, "path", ""))
            for method in sorted(getattr(context, "methods", None) or {"GET"}):
                found.append((method, _sample(path)))
    return found


def test_every_route_of_the_service_is_found_where_fastapi_finds_it(service: FastAPI) -> None:
    routes = _every_route(service)
    assert len(routes) > 70  # the whole API, not an empty walk
    for method, path in routes:
        scope = _scope(path, method)
        expected = _fastapi_choice(service, scope)
        assert expected is not None, (method, path)
        assert _index_choice(service, scope) is expected, (method, path)


def test_the_hot_paths_try_only_their_own_bucket(service: FastAPI) -> None:
    index = service.router.middleware_stack
    assert isinstance(index, RouteIndex)
    index.choose(_scope("/healthz"))  # built
    contracts = index._buckets[path_key("/v1/contracts/x_1")]
    assert len(contracts) < len(service.router.routes) / 2
    # Routes whose paths begin elsewhere are not tried for a contract.
    assert all(
        any(p.startswith("/v1/contracts") for p in _paths(r)) or _paths(r) == [] for r in contracts
    )


def _paths(route: BaseRoute) -> list[str]:
    contexts = getattr(route, "effective_route_contexts", None)
    if contexts is None:
        return []  # a route the index puts in every bucket
    return [c.path_format for c in contexts()]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/nowhere"),  # no bucket
        ("GET", "/v1/contracts/x_1/nowhere"),  # a bucket, no route
        ("PUT", "/v1/contracts/x_1"),  # 405: a partial match only
        ("GET", "/healthz/"),  # the slash redirect's case
        ("GET", "/"),
        ("GET", ""),
    ],
)
def test_what_no_route_fully_matches_is_left_to_fastapi(
    service: FastAPI, method: str, path: str
) -> None:
    scope = _scope(path, method)
    assert _fastapi_choice(service, scope) is None
    assert _index_choice(service, scope) is None


def _tiny_app() -> FastAPI:
    from app.core.routing import install_route_index

    app = FastAPI()
    first = APIRouter()

    @first.get("/v1/things/{thing_id}")
    async def thing(thing_id: str) -> dict[str, str]:
        return {"thing": thing_id}

    @first.get("/v1/things/{thing_id}/parts")
    async def parts(thing_id: str) -> dict[str, str]:
        return {"parts": thing_id}

    app.include_router(first)
    install_route_index(app)
    return app


async def _get(app: FastAPI, path: str, method: str = "GET") -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.request(method, path, follow_redirects=False)


async def test_answers_are_fastapis_own_for_matches_misses_and_redirects() -> None:
    app = _tiny_app()
    assert (await _get(app, "/v1/things/a")).json() == {"thing": "a"}
    assert (await _get(app, "/v1/things/a/parts")).json() == {"parts": "a"}
    assert (await _get(app, "/v1/things/a/nothing")).status_code == 404
    assert (await _get(app, "/v1/things/a", "POST")).status_code == 405
    redirect = await _get(app, "/v1/things/a/")
    assert redirect.status_code == 307
    assert redirect.headers["location"].endswith("/v1/things/a")


async def test_routes_added_after_the_index_is_built_are_found() -> None:
    app = _tiny_app()
    included = APIRouter()

    @included.get("/v1/first/{x}")
    async def first(x: str) -> dict[str, str]:
        return {"first": x}

    app.include_router(included)

    @app.get("/v1/other")
    async def other() -> dict[str, str]:
        return {"other": "top"}

    assert (await _get(app, "/v1/other")).json() == {"other": "top"}  # the index is built

    # A route added to an included router after the index was built: it comes before the
    # app's own /v1/other in FastAPI's order, so it answers now.
    @included.get("/v1/other")
    async def other_of_included() -> dict[str, str]:
        return {"other": "included"}

    assert (await _get(app, "/v1/other")).json() == {"other": "included"}

    # One inserted at the front of the app's routes wins over the older one.
    front = APIRoute("/v1/things/{thing_id}", lambda thing_id: {"front": thing_id})
    app.router.routes.insert(0, front)
    assert (await _get(app, "/v1/things/z")).json() == {"front": "z"}
