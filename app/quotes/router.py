from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from app.auth.dependencies import require
from app.auth.roles import Role
from app.auth.service import Principal
from app.core.database import ReadSessionDep
from app.core.http import ClockDep, json_response
from app.quotes import service
from app.quotes.schemas import QuoteCreate, QuoteRead

router = APIRouter(prefix="/v1/quotes", tags=["quotes"])
# A quote reveals only tariff prices, so every role that sells or serves may ask.
Quoter = Annotated[Principal, Depends(require(Role.OPERATOR, Role.CRM, Role.PORTAL))]


@router.post("", response_model=QuoteRead, operation_id="quotes-create", summary="Quote a contract")
async def create_quote(
    data: QuoteCreate, session: ReadSessionDep, clock: ClockDep, request: Request, _: Quoter
) -> Response:
    """What a contract would cost: monthly, one-time, first invoice and first year."""
    # The price books as checked within SCMS_PRICE_BOOK_CHECK_SECONDS: usually no query,
    # and the read session then never connects.
    max_age = request.app.state.settings.price_book_check_seconds
    quote = await service.make_quote(session, data, clock.today(), books_max_age=max_age)
    return json_response(quote)
