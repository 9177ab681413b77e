"""Small SQL helpers shared by repositories."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import String, and_, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement


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
