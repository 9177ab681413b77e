"""Annotated dependencies shared by every router, and the response of a built read model."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response
from pydantic import BaseModel

from app.core.clock import Clock


async def get_clock(request: Request) -> Clock:
    """The request's clock: the application's, or, in a sandbox (issue 15), the one the
    application resolves for each request (the real clock plus the stored offset). Async
    on purpose: a plain ``def`` dependency costs a threadpool hop per request."""
    clock: Clock = request.app.state.clock
    resolve = getattr(request.app.state, "resolve_clock", None)
    if resolve is not None:
        resolved: Clock = await resolve(request.app.state.database, clock)
        return resolved
    return clock


ClockDep = Annotated[Clock, Depends(get_clock)]


def json_response(model: BaseModel, *, headers: dict[str, str] | None = None) -> Response:
    """A read model already validated once (when it was built), serialised as it is.

    A route that returns its model lets FastAPI validate it a second time against the
    response model; the route declares ``response_model=`` for the OpenAPI document and
    answers this instead (issue 11: one validation per response).
    """
    return Response(
        content=model.__pydantic_serializer__.to_json(model),
        media_type="application/json",
        headers=headers,
    )
