"""Annotated dependencies shared by every router, and the response of a built read model."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request, Response
from pydantic import BaseModel
from starlette.types import Scope

from app.core.clock import Clock

_CLOCK_STATE = "clock"


async def request_clock(scope: Scope) -> Clock:
    """The request's clock: the application's, or, in a sandbox (issue 15), the one the
    application resolves for the request (the real clock plus the stored offset), once:
    the business window and the route read the same one."""
    state: dict[str, Any] = scope.setdefault("state", {})
    clock: Clock | None = state.get(_CLOCK_STATE)
    if clock is None:
        app_state = scope["app"].state
        clock = app_state.clock
        resolve = getattr(app_state, "resolve_clock", None)
        if resolve is not None:
            clock = await resolve(app_state.database, clock)
        state[_CLOCK_STATE] = clock
    assert clock is not None
    return clock


async def get_clock(request: Request) -> Clock:
    """The request's clock as a dependency. Async on purpose: a plain ``def`` dependency
    costs a threadpool hop per request."""
    return await request_clock(request.scope)


ClockDep = Annotated[Clock, Depends(get_clock)]


def json_response(
    model: BaseModel, *, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """A read model already validated once (when it was built), serialised as it is.

    A route that returns its model lets FastAPI validate it a second time against the
    response model; the route declares ``response_model=`` for the OpenAPI document and
    answers this instead (issue 11: one validation per response).
    """
    return Response(
        content=model.__pydantic_serializer__.to_json(model),
        status_code=status_code,
        media_type="application/json",
        headers=headers,
    )


def json_text_response(content: bytes, *, headers: dict[str, str] | None = None) -> Response:
    """JSON a read model function serialised from plain values in its response model's
    shape, without building the model (issue 11: validating a page of fifty invoices cost
    a fifth of the request, for data the database's columns already constrain; kept
    renders, app/core/renders.py, skip even the serialising). Each route that answers
    this has a test that holds its answer to the response model's JSON.
    """
    return Response(content=content, media_type="application/json", headers=headers)
