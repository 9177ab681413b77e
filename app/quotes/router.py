from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from app.auth.dependencies import require
from app.auth.roles import Role
from app.auth.service import Principal
from app.core.database import get_database
from app.core.http import ClockDep, json_text_response
from app.core.lean import lean_post
from app.core.openapi import documents
from app.quotes import service
from app.quotes.schemas import QuoteCreate, QuoteRead

router = APIRouter(prefix="/v1/quotes", tags=["quotes"])
# A quote reveals only tariff prices, so every role that sells or serves may ask.
Quoter = Annotated[Principal, Depends(require(Role.OPERATOR, Role.CRM, Role.PORTAL))]


@lean_post(
    router,
    "",
    response_model=QuoteRead,
    operation_id="quotes-create",
    summary="Quote a contract",
    # No database dependency, but the price books' check opens a read session when the
    # process's copy is older than SCMS_PRICE_BOOK_CHECK_SECONDS: an outage is a 503.
    openapi_extra=documents(503),
)
async def create_quote(data: QuoteCreate, clock: ClockDep, request: Request, _: Quoter) -> Response:
    """What a contract would cost: monthly, one-time, first invoice and first year."""
    # The price books as checked within SCMS_PRICE_BOOK_CHECK_SECONDS: usually no query,
    # and no session at all.
    max_age = request.app.state.settings.price_book_check_seconds
    sessions = get_database(request).read_sessionmaker
    quote = await service.quote_json(sessions, data, clock.today(), books_max_age=max_age)
    return json_text_response(quote)
