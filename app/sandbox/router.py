"""The sandbox clock (issue 15): `GET|PUT /v1/sandbox/clock`, 404 unless `SCMS_SANDBOX`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Depends, Request

from app.auth.dependencies import require
from app.auth.roles import Role
from app.auth.service import Principal
from app.core.clock import Clock
from app.core.errors import NotFound, Unprocessable
from app.core.http import ClockDep
from app.core.openapi import documents
from app.sandbox.advance import DAY_STEPS, DayStep, advance
from app.sandbox.clock import OffsetClock
from app.sandbox.schemas import Happened, SandboxClockMove, SandboxClockMoved, SandboxClockRead


async def sandbox_on(request: Request) -> None:
    if not request.app.state.settings.sandbox:
        raise NotFound(
            "The sandbox clock exists only when the service runs with SCMS_SANDBOX=true.",
            code="sandbox_off",
        )


router = APIRouter(prefix="/v1/sandbox", tags=["sandbox"])
# After the key's role (a role that may not call it is 403 whatever the mode), before
# anything else: off, the clock does not exist.
SandboxOn = Annotated[None, Depends(sandbox_on)]
Anyone = Annotated[Principal, Depends(require(Role.OPERATOR, Role.CRM, Role.PORTAL, Role.PARTNER))]
Admin = Annotated[Principal, Depends(require())]


def _read(clock: Clock, base: Clock) -> SandboxClockRead:
    offset = clock.offset_days if isinstance(clock, OffsetClock) else 0
    return SandboxClockRead(
        today=clock.today(), now=clock.now(), real_now=base.now(), offset_days=offset
    )


@router.get(
    "/clock",
    operation_id="sandbox-clock-get",
    summary="Read the sandbox clock",
    openapi_extra=documents(404, 503),
)
async def get_clock(
    request: Request, _: Anyone, __: SandboxOn, clock: ClockDep
) -> SandboxClockRead:
    """The sandbox's today and now, the real now and the offset between them."""
    return _read(clock, request.app.state.clock)


@router.put(
    "/clock",
    operation_id="sandbox-clock-move",
    summary="Move the sandbox clock forward",
    openapi_extra=documents(404, 409, 503),
)
async def move_clock(
    request: Request, _: Admin, __: SandboxOn, data: SandboxClockMove, clock: ClockDep
) -> SandboxClockMoved:
    """Moves today forward to `today`, doing first, day by day and in order, what the days
    passed would have done: the daily roll (renewals, terminations, overdue invoices, with
    their events) and, on each month's scheduled issue day, its bill run. Answers when all
    is done, with counts per kind. Never back: an earlier date is 422
    `sandbox_clock_backwards`. A failure half-way leaves the clock on the last day whose
    work is done (409); moving again carries on from there."""
    if data.today < clock.today():
        raise Unprocessable(
            f"The sandbox clock never goes back: today is {clock.today()}; "
            f"give {clock.today()} or a later date.",
            code="sandbox_clock_backwards",
            today=str(clock.today()),
            requested=str(data.today),
        )
    base: Clock = request.app.state.clock
    steps: Sequence[DayStep] = getattr(request.app.state, "sandbox_day_steps", DAY_STEPS)
    moved, happened = await advance(
        request.app.state.database, request.app.state.settings, base, data.today, steps
    )
    return SandboxClockMoved(**_read(moved, base).model_dump(), happened=Happened(**happened))
