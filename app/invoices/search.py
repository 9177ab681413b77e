"""Finding documents again (issue 14 §5, 電子帳簿保存法: 可視性): the query parameters the
invoice and credit-note lists and the CSV index share."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from app.core.validation import MAX_YEN, BusinessDate
from app.invoices.repository import DocumentSearch

Amount = Annotated[int, Query(ge=0, le=MAX_YEN, description="Whole yen, tax included.")]


async def document_search(
    issued_from: Annotated[BusinessDate | None, Query(description="Issued on or after.")] = None,
    issued_to: Annotated[BusinessDate | None, Query(description="Issued on or before.")] = None,
    total_min: Amount | None = None,
    total_max: Amount | None = None,
    recipient: Annotated[
        str | None,
        Query(min_length=1, max_length=200, description="The recipient's name contains this."),
    ] = None,
) -> DocumentSearch:
    # Async: the invoice list is a LeanRoute, whose dependencies take no threadpool hop.
    return DocumentSearch(issued_from, issued_to, total_min, total_max, recipient)


DocumentSearchDep = Annotated[DocumentSearch, Depends(document_search)]
