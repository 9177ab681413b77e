"""Cursor pagination (API.md "Lists"): ``?limit=&cursor=`` → ``{items, next_cursor}``.

Keyset pagination: the cursor holds the sort key of the last item served, so pages stay
stable while rows are inserted and cost the same at page 1 and page 10,000. The cursor is
opaque to clients (url-safe base64 of JSON).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar, cast

from fastapi import Depends, Query
from pydantic import BaseModel
from sqlalchemy import Select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement

from app.core.database import Executor
from app.core.errors import Unprocessable

T = TypeVar("T")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
Row = TypeVar("Row")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


@dataclass(frozen=True)
class PageParams:
    limit: int
    cursor: str | None


async def page_params(
    limit: Annotated[int, Query(ge=1, le=200, description="Items per page (1–200).")] = 50,
    cursor: Annotated[
        str | None, Query(description="next_cursor of the previous page.", max_length=512)
    ] = None,
) -> PageParams:
    return PageParams(limit=limit, cursor=cursor)


PageParamsDep = Annotated[PageParams, Depends(page_params)]


def encode_cursor(values: Sequence[Any]) -> str:
    raw = json.dumps(list(values), separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _invalid_cursor() -> Unprocessable:
    return Unprocessable(
        "The cursor is not one this API produced; pass next_cursor unchanged.",
        code="invalid_cursor",
    )


def cursor_text(value: Any) -> str:
    """A cursor's text key, as the API wrote it: a string that a database can compare."""
    if not isinstance(value, str) or len(value) > 200 or _UNSTORABLE.search(value):
        raise ValueError("not a key this API writes")
    return value


def decode_cursor(cursor: str, width: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeError, RecursionError) as exc:
        raise _invalid_cursor() from exc
    if not isinstance(values, list) or len(values) != width:
        raise Unprocessable(
            "The cursor does not belong to this list; pass next_cursor unchanged.",
            code="invalid_cursor",
        )
    return values


async def paginate(
    session: AsyncSession,
    stmt: Select[Any],
    *,
    keys: Sequence[ColumnElement[Any] | InstrumentedAttribute[Any]],
    key_of: Callable[[Row], Sequence[Any]],
    params: PageParams,
    parse: Sequence[Callable[[Any], Any]] | None = None,
) -> tuple[list[Row], str | None]:
    """Newest first by ``keys`` (descending); ``key_of`` gives an item's key values.

    ``parse`` turns each cursor value back into its key's type (raising ValueError or
    TypeError for one this API did not write); text keys by default (:func:`cursor_text`).
    Items are the statement's first column (an ORM entity, say).
    """
    stmt = keyset(stmt, keys=keys, params=params, parse=parse)
    rows = cast(list[Row], list((await session.scalars(stmt)).all()))
    return cut(rows, key_of, params)


async def paginate_rows(
    session: Executor,
    stmt: Select[Any],
    *,
    keys: Sequence[ColumnElement[Any] | InstrumentedAttribute[Any]],
    key_of: Callable[[Any], Sequence[Any]],
    params: PageParams,
) -> tuple[list[Any], str | None]:
    """As :func:`paginate`, for a statement of plain columns: the items are its rows."""
    stmt = keyset(stmt, keys=keys, params=params)
    return cut(list(await session.execute(stmt)), key_of, params)


def keyset(
    stmt: Select[Any],
    *,
    keys: Sequence[ColumnElement[Any] | InstrumentedAttribute[Any]],
    params: PageParams,
    parse: Sequence[Callable[[Any], Any]] | None = None,
) -> Select[Any]:
    """``stmt`` restricted to the items after the cursor, newest first, one past the page."""
    if params.cursor is not None:
        values = decode_cursor(params.cursor, len(keys))
        # Every value is checked for the type of its key: a number, a list or a NUL
        # where the key is text would reach the database and be a 500 there (issue 9 §5).
        try:
            values = [
                fn(v) for fn, v in zip(parse or [cursor_text] * len(keys), values, strict=True)
            ]
        except (TypeError, ValueError) as exc:
            raise _invalid_cursor() from exc
        stmt = stmt.where(tuple_(*keys) < tuple_(*values))
    return stmt.order_by(*(k.desc() for k in keys)).limit(params.limit + 1)


def cut(
    rows: list[Row], key_of: Callable[[Row], Sequence[Any]], params: PageParams
) -> tuple[list[Row], str | None]:
    """The page and the cursor of the next one (None on the last page)."""
    next_cursor = None
    if len(rows) > params.limit:
        rows = rows[: params.limit]
        next_cursor = encode_cursor(key_of(rows[-1]))
    return rows, next_cursor
