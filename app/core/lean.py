"""GET routes whose parameters are solved by a plan made once, at start-up (issue 11).

FastAPI solves a route's dependencies anew on every request: it walks the dependency
tree, computes a cache key for each node, opens exit stacks and checks scopes. For the
reads that integrations poll (a contract, a page of contracts) that walk cost more than
the whole request of a bare Starlette app. :class:`LeanRoute` walks the tree once, when
the route is built, into a flat plan, and runs only the plan:

- each dependency, in the order FastAPI runs them, once per request (FastAPI's
  ``use_cache``); an async generator (a session, a connection) is entered in the route's
  function exit stack, so it closes after the endpoint returns and before the response
  is sent, and sees the endpoint's exception, as under FastAPI;
- the path, query and header parameters, validated by FastAPI's own function, so a bad
  value gets the same 422 (``RequestValidationError``), after the same dependencies ran
  (a 403 wins over a 422), as on any other route (tests/core/test_lean_route.py);
- a JSON body (a quote's question), read and decoded as FastAPI's route does (a body that
  is not JSON is a 422 before anything else runs) and validated by FastAPI's own
  function after the dependencies, with the same errors.

The route is declared as any other (:func:`lean_get`, :func:`lean_post`; its OpenAPI
operation is FastAPI's), within limits checked when it is built: dependencies are async
(FastAPI runs a plain ``def`` in a worker thread: a hop on every request), a body is one
JSON parameter of the endpoint itself (no form, no file, none in a dependency), there is
no cookie, ``Response`` or background-task parameter, and the endpoint answers a
``Response`` (``json_response``: the read model was validated when it was built). A route
that needs more stays a plain ``APIRoute``.

The body path calls FastAPI's own helpers, some of them private (``request_body_to_args``,
``_should_embed_body_fields``, the body limit's error): FastAPI is pinned in
constraints.txt, and the parity test fails if an upgrade changes what they answer.
"""

from __future__ import annotations

import email.message
import functools
import inspect
import json
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import APIRouter, HTTPException
from fastapi import routing as fastapi_routing
from fastapi._body_limit import get_body_limit_error
from fastapi._compat import ModelField
from fastapi.datastructures import DefaultPlaceholder
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import (
    _should_embed_body_fields,
    request_body_to_args,
    request_params_to_args,
)
from fastapi.exceptions import RequestValidationError
from fastapi.params import File as FileParam
from fastapi.params import Form as FormParam
from fastapi.routing import APIRoute
from pydantic_core import PydanticUndefined
from starlette.middleware.body_limit import MAX_BODY_SIZE_SCOPE_KEY
from starlette.requests import Request
from starlette.responses import Response

Solved = dict[Any, Any]  # the dependencies solved for one request, by their callable


@dataclass(frozen=True, slots=True)
class _Step:
    """One dependency of the plan: call ``call`` with the values of ``plan``."""

    call: Callable[..., Any]
    plan: _Plan
    generator: bool
    cached: bool


@dataclass(frozen=True, slots=True)
class _Plan:
    """How to call one callable (a dependency or the endpoint)."""

    steps: tuple[tuple[str | None, _Step], ...]  # (parameter name, dependency)
    dependant: Dependant
    has_params: bool


def _call_of(dependant: Dependant) -> Callable[..., Any]:
    assert dependant.call is not None
    return dependant.call


def _is_async(call: Callable[..., Any]) -> tuple[bool, bool]:
    """(async, async generator) for a function or a callable instance."""
    target = call if inspect.isfunction(call) or inspect.ismethod(call) else call.__call__  # type: ignore[operator]
    generator = inspect.isasyncgenfunction(target)
    return generator or inspect.iscoroutinefunction(target), generator


def _plan(dependant: Dependant, *, where: str, top: bool = False) -> _Plan:
    unsupported = [
        name
        for name in (
            "websocket_param_name",
            "response_param_name",
            "background_tasks_param_name",
            "security_scopes_param_name",
        )
        if getattr(dependant, name)
    ]
    if dependant.cookie_params:
        unsupported.append("cookies")
    if dependant.body_params and not (top and _json_body_params(dependant)):
        # One JSON body parameter of the endpoint is read as FastAPI reads it (_Body);
        # forms, files and bodies in dependencies stay FastAPI's own.
        unsupported.append("a body" if not top else "a body but one JSON parameter")
    if unsupported:
        raise TypeError(f"{where}: LeanRoute does not solve {', '.join(unsupported)}")
    steps: list[tuple[str | None, _Step]] = []
    for sub in dependant.dependencies:
        call = _call_of(sub)
        is_async, generator = _is_async(call)
        if not is_async:
            raise TypeError(f"{where}: dependency {call!r} is not async (a thread hop per call)")
        step = _Step(call, _plan(sub, where=where), generator, sub.use_cache)
        steps.append((sub.name, step))
    return _Plan(
        steps=tuple(steps),
        dependant=dependant,
        has_params=bool(dependant.path_params or dependant.query_params or dependant.header_params),
    )


async def _solve(
    plan: _Plan, request: Request, solved: Solved, errors: list[Any]
) -> dict[str, Any]:
    """The keyword arguments of ``plan``'s callable; validation errors go to ``errors``."""
    values: dict[str, Any] = {}
    for name, step in plan.steps:
        if step.cached and step.call in solved:
            value = solved[step.call]
        else:
            before = len(errors)
            kwargs = await _solve(step.plan, request, solved, errors)
            if len(errors) > before:
                continue  # as FastAPI: not called, the next ones are (a 403 wins a 422)
            value = await _run(step, kwargs, request)
            if step.cached:
                solved[step.call] = value
        if name is not None:
            values[name] = value
    dependant = plan.dependant
    for name in (dependant.request_param_name, dependant.http_connection_param_name):
        if name:
            values[name] = request
    if plan.has_params:
        for fields, received in (
            (dependant.path_params, request.path_params),
            (dependant.query_params, request.query_params),
            (dependant.header_params, request.headers),
        ):
            found, wrong = request_params_to_args(fields, received)
            values.update(found)
            errors.extend(wrong)
    return values


async def _run(step: _Step, kwargs: dict[str, Any], request: Request) -> Any:
    if step.generator:
        stack: AsyncExitStack = request.scope["fastapi_function_astack"]
        return await stack.enter_async_context(asynccontextmanager(step.call)(**kwargs))
    return await step.call(**kwargs)


class LeanRoute(APIRoute):
    """An ``APIRoute`` that runs the plan of its parameters (see the module docstring)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        # FastAPI builds the handler once for the route and once per inclusion in an
        # application, with that inclusion's dependant (the application's dependencies
        # first): the plan is made from the same one.
        dependant = _effective_dependant(self)
        where = f"{','.join(sorted(self.methods or ()))} {self.path}"
        plan = _plan(dependant, where=where, top=True)
        body = _Body.of(self, dependant)
        endpoint: Callable[..., Awaitable[Any]] = _call_of(dependant)

        async def handler(request: Request) -> Response:
            errors: list[Any] = []
            # As FastAPI: the body is read (and a body that is not JSON refused) before
            # any dependency runs, and validated after them.
            received = await body.read(request) if body is not None else None
            kwargs = await _solve(plan, request, {}, errors)
            if body is not None:
                values, wrong = await request_body_to_args(body.fields, received, body.embed)
                kwargs.update(values)
                errors.extend(wrong)
            if errors:
                raise RequestValidationError(errors, body=received)
            response = await endpoint(**kwargs)
            if not isinstance(response, Response):
                raise TypeError(f"{where}: a LeanRoute's endpoint answers a Response")
            return response

        return handler


def _json_body_params(dependant: Dependant) -> bool:
    params = dependant.body_params
    return len(params) == 1 and not isinstance(params[0].field_info, (FormParam, FileParam))


@dataclass(frozen=True, slots=True)
class _Body:
    """An endpoint's JSON body parameter, read and decoded as FastAPI's route does."""

    fields: list[ModelField]
    embed: bool
    strict_content_type: bool

    @classmethod
    def of(cls, route: APIRoute, dependant: Dependant) -> _Body | None:
        if not dependant.body_params:
            return None
        strict = route.strict_content_type
        if isinstance(strict, DefaultPlaceholder):
            strict = strict.value
        fields = list(dependant.body_params)
        return cls(fields, _should_embed_body_fields(fields), bool(strict))

    async def read(self, request: Request) -> Any:
        try:
            received = await request.body()
            if not received:
                return PydanticUndefined
            if not self._says_json(request.headers.get("content-type")):
                return received
            return json.loads(received)
        except json.JSONDecodeError as exc:
            invalid: dict[str, Any] = {"type": "json_invalid", "loc": ("body", exc.pos)}
            invalid |= {"msg": "JSON decode error", "input": {}, "ctx": {"error": exc.msg}}
            raise RequestValidationError([invalid], body=exc.doc) from exc
        except Exception as exc:
            # The body limit's own answer (413); anything else (a body nested too deep to
            # decode, a client gone) is FastAPI's 400, never a 500.
            if MAX_BODY_SIZE_SCOPE_KEY in request.scope and (error := get_body_limit_error(exc)):
                raise error from exc
            raise HTTPException(400, "There was an error parsing the body") from exc

    def _says_json(self, content_type: str | None) -> bool:
        if content_type is None:
            return not self.strict_content_type
        return _says_json(content_type)


@functools.lru_cache(maxsize=64)
def _says_json(content_type: str) -> bool:
    """As FastAPI reads a Content-Type (an email message's header), once per value: the
    parse cost about as much as the rest of the body's reading."""
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


def _effective_dependant(route: APIRoute) -> Dependant:
    # FastAPI's own get_route_handler reads the inclusion from this context variable; a
    # FastAPI without it builds routes without inclusion contexts.
    context_var = getattr(fastapi_routing, "_effective_route_context_var", None)
    context = context_var.get() if context_var is not None else None
    if context is not None and context.original_route is route:
        return context.dependant  # type: ignore[no-any-return]
    return route.dependant


Endpoint = TypeVar("Endpoint", bound=Callable[..., Awaitable[Response]])


def lean_get(router: APIRouter, path: str, **options: Any) -> Callable[[Endpoint], Endpoint]:
    """``@router.get(path, **options)``, the route being a :class:`LeanRoute`."""
    return _declare(router, path, "GET", options)


def lean_post(router: APIRouter, path: str, **options: Any) -> Callable[[Endpoint], Endpoint]:
    """``@router.post(path, **options)``, the route being a :class:`LeanRoute`."""
    return _declare(router, path, "POST", options)


def _declare(
    router: APIRouter, path: str, method: str, options: dict[str, Any]
) -> Callable[[Endpoint], Endpoint]:
    def declare(endpoint: Endpoint) -> Endpoint:
        router.add_api_route(
            path, endpoint, methods=[method], route_class_override=LeanRoute, **options
        )
        return endpoint

    return declare
