from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from app.auth.dependencies import require
from app.auth.roles import Role
from app.auth.service import Principal
from app.core.database import SessionDep
from app.core.http import ClockDep
from app.quotes import service
from app.quotes.schemas import QuoteCreate, QuoteRead

router = APIRouter(prefix="/v1/quotes", tags=["quotes"])
# A quote reveals only tariff prices, so every role that sells or serves may ask.
Quoter = Annotated[Principal, Depends(require(Role.OPERATOR, Role.CRM, Role.PORTAL))]


@router.post("", response_model=QuoteRead, operation_id="quotes-create", summary="Quote a contract")
async def create_quote(
    data: QuoteCreate, session: SessionDep, clock: ClockDep, _: Quoter
) -> QuoteRead:
    """What a contract would cost: monthly, one-time, first invoice and first year."""
    return await service.make_quote(session, data, clock.today())
