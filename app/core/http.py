"""Annotated dependencies shared by every router."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.core.clock import Clock


async def get_clock(request: Request) -> Clock:
    """The request's clock: the application's, or, in a sandbox (issue 15), the one the
    application resolves for each request (the real clock plus the stored offset)."""
    clock: Clock = request.app.state.clock
    resolve = getattr(request.app.state, "resolve_clock", None)
    if resolve is not None:
        resolved: Clock = await resolve(request.app.state.database, clock)
        return resolved
    return clock


ClockDep = Annotated[Clock, Depends(get_clock)]
