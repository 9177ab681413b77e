from __future__ import annotations

import logging
from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.core import jobs
from app.core.database import get_database
from app.core.http import get_clock
from app.core.metrics import JOBS, REGISTRY
from app.core.migrations import head_revisions
from app.core.outage import retry_after_seconds

router = APIRouter(tags=["operations"])
_log = logging.getLogger(__name__)


class Readiness(BaseModel):
    status: Literal["ready", "not_ready"]
    checks: dict[str, Any] = Field(
        examples=[
            {
                "database": "ok",
                "migrations": {"current": ["0012"], "head": ["0012"]},
                "environment": "production",
                "issuer_registration_number": "set",
                "sandbox": "off",
            }
        ]
    )


@router.get("/healthz", operation_id="health-live", summary="Check that the process is alive")
async def healthz() -> dict[str, str]:
    """The process is up (no dependency is checked)."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    operation_id="health-ready",
    summary="Check that the service is ready for traffic",
    responses={
        200: {"model": Readiness, "description": "Ready"},
        503: {"model": Readiness, "description": "Database unreachable or migrations not at head"},
    },
)
async def readyz(request: Request) -> JSONResponse:
    """Ready to serve: the database answers and its schema is at the migrations' head."""
    checks: dict[str, Any] = {}
    heads = sorted(head_revisions())
    try:
        async with get_database(request).sessionmaker() as session:
            await session.execute(text("SELECT 1"))
            checks["database"] = "ok"
            try:
                rows = await session.execute(text("SELECT version_num FROM alembic_version"))
                current = sorted(r[0] for r in rows)
            except SQLAlchemyError:
                current = []
    except (SQLAlchemyError, OSError) as exc:
        checks["database"] = f"unreachable: {type(exc).__name__}"
        current = []
    checks["migrations"] = {"current": current, "head": heads}
    # Issue 14 §2: say when the service runs in development mode on the placeholder number.
    settings = request.app.state.settings
    checks["environment"] = settings.env
    checks["issuer_registration_number"] = (
        "placeholder (development mode only)" if settings.uses_placeholder_issuer else "set"
    )
    # Issue 15: a sandbox's today may be moved; say so where operators look.
    checks["sandbox"] = "on" if settings.sandbox else "off"
    ready = checks["database"] == "ok" and current == heads
    return JSONResponse(
        {"status": "ready" if ready else "not_ready", "checks": checks},
        status_code=200 if ready else 503,
        # Issue 9 §7: a load balancer may ask again after this many seconds.
        headers=None if ready else {"Retry-After": str(retry_after_seconds(request))},
    )


@router.get(
    "/metrics",
    operation_id="metrics",
    summary="Read the Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
async def metrics(request: Request) -> Response:
    """Prometheus text exposition: request counts and latency histograms by route,
    background jobs by state (`scms_jobs`), the outbox lag and webhook deliveries by
    status."""
    await _refresh_job_counts(request)
    # Gauges read from the database by the features that keep them (app.state, set by main),
    # on the requests' clock: in a sandbox (issue 15) events occur on the moved clock, and
    # their age measured on the real one (the outbox lag) would read 0 after a move.
    try:
        clock = await get_clock(request)
    except (SQLAlchemyError, OSError):  # the sandbox's offset is unreadable: keep the last
        _log.warning("metrics_refresh_failed", exc_info=True)
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
    for refresh in getattr(request.app.state, "metrics_refreshers", ()):
        try:
            await refresh(get_database(request), clock)
        except (SQLAlchemyError, OSError):
            _log.warning("metrics_refresh_failed", exc_info=True)
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


async def _refresh_job_counts(request: Request) -> None:
    """Issue 12 §5: jobs by state, counted now; a database away leaves the last counts."""
    try:
        async with get_database(request).sessionmaker() as session:
            counts = await jobs.counts_by_state(session)
    except (SQLAlchemyError, OSError):
        return
    for state, count in counts.items():
        JOBS.labels(state).set(count)
