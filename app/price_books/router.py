from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response, status

from app.auth.dependencies import AdminKey, require
from app.auth.roles import Role
from app.auth.service import Principal
from app.core.database import SessionDep
from app.core.http import ClockDep
from app.core.openapi import documents
from app.core.pagination import Page, PageParamsDep
from app.price_books import service
from app.price_books.dependencies import InvoicedThroughDep
from app.price_books.repository import PriceBookRepository
from app.price_books.schemas import PriceBookCreate, PriceBookRead

router = APIRouter(prefix="/v1/price-books", tags=["price-books"])
PriceBookID = Annotated[str, Path(max_length=40, description="The price book version's id.")]
Reader = Annotated[Principal, Depends(require(Role.OPERATOR, Role.CRM))]


@router.get(
    "",
    response_model=Page[PriceBookRead],
    operation_id="price-books-list",
    summary="List price book versions",
)
async def list_price_books(
    session: SessionDep, page: PageParamsDep, _: Reader
) -> Page[PriceBookRead]:
    """Every version, newest `effective_from` first."""
    versions, cursor = await PriceBookRepository(session).page(page)
    return Page(items=[PriceBookRead.of(v) for v in versions], next_cursor=cursor)


@router.get(
    "/{price_book_id}",
    response_model=PriceBookRead,
    operation_id="price-books-get",
    summary="Read a price book version",
)
async def get_price_book(
    price_book_id: PriceBookID, session: SessionDep, _: Reader
) -> PriceBookRead:
    """One version's tariffs: plans, options and one-time fees in yen, tax excluded."""
    return PriceBookRead.of(await service.get_version(session, price_book_id))


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=PriceBookRead,
    operation_id="price-books-create",
    summary="Add a price book version",
    openapi_extra=documents(409, location=True),
)
async def create_price_book(
    data: PriceBookCreate,
    session: SessionDep,
    clock: ClockDep,
    principal: AdminKey,
    invoiced_through: InvoicedThroughDep,
    response: Response,
) -> PriceBookRead:
    """Add a version from the first day of a month not yet invoiced (R-CAT-4).

    Existing versions never change; a new one supersedes them from its month on.
    """
    version = await service.create_version(session, data, principal, clock, invoiced_through)
    response.headers["Location"] = f"/v1/price-books/{version.id}"
    return PriceBookRead.of(version)
