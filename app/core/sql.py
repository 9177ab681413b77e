"""Small SQL helpers shared by repositories."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    JSON,
    String,
    Text,
    and_,
    any_,
    bindparam,
    cast,
    func,
    literal_column,
    select,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import ScalarSelect


def among(
    session: AsyncSession, column: InstrumentedAttribute[Any], values: Sequence[str]
) -> ColumnElement[bool]:
    """``column IN (values)`` for a string column.

    On PostgreSQL ``column = ANY(:values)``: one array parameter instead of one per value,
    so a batch of a thousand ids is one cached statement, not a thousand binds to render;
    bounded by the smallest and largest value too, which lets the planner see that a
    batch of neighbouring ids is a narrow index range (without it, it often estimates a
    thousand-value ANY as a large share of the table and scans all of it).
    """
    if session.get_bind().dialect.name == "postgresql" and values:
        return and_(
            column >= min(values),
            column <= max(values),
            column == any_(bindparam(None, list(values), type_=ARRAY(String))),
        )
    return column.in_(values)


def json_rows(
    dialect: str,
    columns: Sequence[ColumnElement[Any] | InstrumentedAttribute[Any]],
    where: ColumnElement[bool],
    *,
    json_columns: Sequence[ColumnElement[Any] | InstrumentedAttribute[Any]] = (),
    as_text: bool = False,
) -> ScalarSelect[Any]:
    """A correlated subquery answering the rows ``where`` selects as one JSON array of
    arrays (``[]`` when there are none): a parent and its children in one statement.

    Dates arrive as ISO text; ``json_columns`` (already JSON) are nested as JSON, not as
    strings. The order of the rows is not guaranteed: sort them where they are read.
    ``as_text``: the array's JSON text, undecoded (a row that stays hashable, to key a
    cache by; the reader decodes it when it needs the values).
    """
    values: list[Any] = [c if c not in json_columns else _as_json(dialect, c) for c in columns]
    if dialect == "postgresql":
        aggregate: Any = func.coalesce(
            func.json_agg(func.json_build_array(*values)), literal_column("'[]'::json")
        )
        if as_text:
            aggregate = cast(aggregate, Text)
    else:
        aggregate = func.json_group_array(func.json_array(*values))
    return select(type_coerce(aggregate, Text if as_text else JSON)).where(where).scalar_subquery()


def json_text(column: ColumnElement[Any] | InstrumentedAttribute[Any]) -> ColumnElement[str]:
    """A JSON column's text, undecoded (see ``as_text`` above)."""
    return cast(column, Text)


def _as_json(dialect: str, column: Any) -> Any:
    return column if dialect == "postgresql" else func.json(column)
