"""Finding a request's route without trying every route (issue 11).

FastAPI's router tries its routes in order until one matches the whole request; an
included router counts as one route but is tried by trying each of its own routes, each
try a regular expression and a few scope updates. The service includes some twenty
routers, so ``GET /v1/contracts/{id}`` was tried against about thirty routes before its
own, and an invoice against some fifty: a sixth of a read's CPU.

Every API path begins with literal segments (``/v1/contracts/...``), and a route whose
template begins ``/v1/contracts`` can only match a path that does. :class:`RouteIndex`
sorts the router's routes into buckets by the first two segments of every path they can
match, keeping their order, and a request tries only its bucket. The answer is the same
as FastAPI's by construction:

- a bucket holds every route that can match a path of its segments, in the router's
  order, so the first one that matches the whole request is the one FastAPI would pick;
- a route whose template has a parameter in its first two segments, or that is not a
  plain route (a mount, a host), is in every bucket, where it stands in the order;
- anything the bucket does not answer fully (a 404, a 405, a redirect to the other
  slash form) goes to FastAPI's own loop, which decides it as it always did;
- routes added later (a test's, an included router's) make the index rebuild itself.

tests/core/test_route_index.py sends a path of every route through both and requires
the same route, and the 404, 405 and redirect cases.

What the index does on a full match is what FastAPI's router does (its private
``_update_scope``, ``_route_selected`` and form-limit helpers): FastAPI is pinned in
constraints.txt, and the test fails if an upgrade changes the outcome.
"""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import FastAPI
from fastapi import routing as fastapi_routing
from fastapi.telemetry._api import _route_selected as route_selected
from starlette._utils import get_route_path
from starlette.routing import BaseRoute, Match, Mount, Route
from starlette.types import Receive, Scope, Send

Key = tuple[str, ...]
DEPTH = 2  # the segments a bucket is named by: /v1/<resource>


def path_key(path: str) -> Key:
    """The bucket of a request path: its first ``DEPTH`` segments."""
    return tuple(path.split("/", DEPTH + 1)[1 : DEPTH + 1])


def _template_key(template: str) -> Key | None:
    """The bucket of every path a template can match, or None when that is not one
    bucket (a parameter in the first segments: it can match any of them)."""
    key = path_key(template)
    if any("{" in segment for segment in key):
        return None
    # A shorter template (/healthz) matches only paths of that many segments, which
    # name the same bucket.
    return key


def _templates(route: BaseRoute) -> Iterable[str] | None:
    """The path templates a top-level route can match, or None when it is not a set of
    plain templates (it then goes in every bucket)."""
    if isinstance(route, fastapi_routing._IncludedRouter):
        paths: list[str] = []
        for context in route.effective_route_contexts():
            if context.starlette_route is not None or not isinstance(
                context.original_route, Route
            ):  # a mount, a host, static files: not a set of templates
                return None
            paths.append(context.path_format)
        return paths
    if isinstance(route, Mount):
        return None
    if isinstance(route, Route):
        return [route.path_format]
    return None


def _routers(router: fastapi_routing.APIRouter) -> Iterable[fastapi_routing.APIRouter]:
    yield router
    for route in router.routes:
        if isinstance(route, fastapi_routing._IncludedRouter):
            yield from _routers(route.original_router)


class RouteIndex:
    """The router's ASGI entry (``Router.middleware_stack``): the request's bucket
    first, FastAPI's whole loop for what the bucket does not answer."""

    def __init__(self, router: fastapi_routing.APIRouter) -> None:
        self.router = router
        self._built_for: tuple[int, int] | None = None
        self._buckets: dict[Key, tuple[BaseRoute, ...]] = {}
        self._everywhere: tuple[BaseRoute, ...] = ()
        self._routers: tuple[fastapi_routing.APIRouter, ...] = ()

    def _version(self) -> tuple[int, int]:
        # FastAPI counts the changes of each router (_get_routes_version walks them all,
        # ~20 us a request): the sum over the routers the index was built from changes
        # whenever a route is added to any of them, or a router included into one.
        return len(self.router.routes), sum(r._routes_version for r in self._routers)

    def _build(self) -> None:
        self._routers = tuple(_routers(self.router))
        keyed: list[tuple[BaseRoute, set[Key] | None]] = []
        for route in self.router.routes:
            templates = _templates(route)
            keys = None if templates is None else [_template_key(t) for t in templates]
            # None: the route can match a path of any bucket.
            keyed.append((route, None if keys is None or None in keys else set(keys)))  # type: ignore[arg-type]
        names = {key for _, keys in keyed if keys for key in keys}
        self._buckets = {
            name: tuple(r for r, keys in keyed if keys is None or name in keys) for name in names
        }
        self._everywhere = tuple(r for r, keys in keyed if keys is None)
        self._built_for = self._version()

    def choose(self, scope: Scope) -> tuple[BaseRoute, Scope] | None:
        """The first route of the request's bucket that matches it fully, with its child
        scope: FastAPI's choice (None: let FastAPI's loop decide)."""
        if self._built_for != self._version():
            self._build()
        bucket = self._buckets.get(path_key(get_route_path(scope)), self._everywhere)
        for route in bucket:
            match, child_scope = route.matches(scope)
            if match == Match.FULL:
                return route, child_scope
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.router.app(scope, receive, send)
            return
        router = self.router
        # What APIRouter.app does before it tries the routes.
        fastapi_routing._apply_router_form_limits(scope, router.form_limits)
        if "router" not in scope:
            scope["router"] = router
        chosen = self.choose(scope)
        if chosen is None:
            await router.app(scope, receive, send)
            return
        # What APIRouter.app does with the first full match.
        route, child_scope = chosen
        fastapi_routing._update_scope(scope, child_scope)
        route_selected(
            scope=scope,
            path=getattr(route, "path_format", None),
            mount=isinstance(route, Mount),
        )
        await route.handle(scope, receive, send)


def install_route_index(app: FastAPI) -> None:
    """Route the application's requests through a :class:`RouteIndex`."""
    app.router.middleware_stack = RouteIndex(app.router)
