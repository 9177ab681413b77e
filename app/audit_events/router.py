"""`/v1/audit-events`: the operation log (R-PTN-2, Art. 32.3). Admin and operator keys
see every entry; a portal key only its own customer's (the customer's service
administrators' log belongs to the customer, R-PTN-3)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy import literal, select

from app.audit import log
from app.audit_events import service
from app.audit_events.schemas import AuditEventRead
from app.auth.dependencies import require
from app.auth.roles import Role
from app.auth.service import Principal
from app.core.clock import TOKYO
from app.core.database import SessionDep, get_database
from app.core.errors import Unprocessable
from app.core.pagination import Page, PageParamsDep
from app.core.validation import BusinessDate

router = APIRouter(prefix="/v1/audit-events", tags=["audit-events"])
Reader = Annotated[Principal, Depends(require(Role.OPERATOR, Role.PORTAL))]
Since = Annotated[BusinessDate | None, Query(description="Entries on or after this day (Tokyo).")]
Until = Annotated[BusinessDate | None, Query(description="Entries on or before this day (Tokyo).")]


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=TOKYO)


ID = Annotated[str | None, Query(max_length=40)]


def _filters(
    principal: Principal,
    since: date | None,
    until: date | None,
    **more: str | None,
) -> log.Filters:
    if since is not None and until is not None and until < since:
        raise Unprocessable(
            f"until {until.isoformat()} is before since {since.isoformat()}.",
            code="invalid_window",
            field="until",
        )
    customer_id = principal.customer_id if principal.role is Role.PORTAL else None
    return log.Filters(
        since=_start_of(since) if since else None,
        until=_start_of(until + timedelta(days=1)) if until else None,
        customer_id=customer_id,
        **more,
    )


@router.get("", operation_id="audit-events-list", summary="List operation-log entries")
async def list_audit_events(
    session: SessionDep,
    page: PageParamsDep,
    actor: Reader,
    since: Since = None,
    until: Until = None,
    actor_key_id: Annotated[
        str | None, Query(alias="actor", max_length=40, description="An API key's id.")
    ] = None,
    resource: Annotated[
        str | None, Query(max_length=40, description="The id of the object changed.")
    ] = None,
    action: Annotated[
        str | None, Query(max_length=80, description="e.g. `customers.update`.")
    ] = None,
) -> Page[AuditEventRead]:
    """Newest first: who (key id, name, role), what, when, the resource's type and id, the
    values before and after. Kept `SCMS_AUDIT_RETENTION_DAYS` days (default 90)."""
    filters = _filters(actor, since, until, actor=actor_key_id, resource=resource, action=action)
    rows, cursor = await log.page(session, filters, page)
    names = await service.names_for(session, {r.actor_key_id for r in rows}, {})
    return Page(
        items=[AuditEventRead.model_validate(service.entry(r, names)) for r in rows],
        next_cursor=cursor,
    )


@router.get(
    "/export",
    operation_id="audit-events-export",
    summary="Export operation-log entries as NDJSON",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {
                "application/x-ndjson": {
                    "schema": {
                        "type": "string",
                        "description": "One audit event (as the list shows it) per line.",
                    }
                }
            },
            "description": "NDJSON, oldest first, streamed (Art. 32.3: move it to your "
            "own storage before the retention period ends)",
        }
    },
)
async def export_audit_events(
    request: Request, session: SessionDep, actor: Reader, since: Since = None, until: Until = None
) -> Response:
    """Every entry of the window, oldest first, one JSON object a line, streamed in
    constant memory; a portal key's export holds its own customer's entries only."""
    filters = _filters(actor, since, until)
    # The database answers before the stream starts (else 503, not a truncated file).
    await session.execute(select(literal(1)))
    start = since.isoformat() if since else "start"
    end = until.isoformat() if until else "now"
    return StreamingResponse(
        service.ndjson(get_database(request), filters),
        media_type="application/x-ndjson",
        headers={
            "Content-Disposition": f'attachment; filename="audit-events-{start}-{end}.ndjson"'
        },
    )
