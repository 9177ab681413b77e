"""Field types shared by request schemas: names, contacts, and the bounded business
dates, months and amounts of issue 9 §4."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from annotated_types import Gt, Le
from pydantic import Field, GetCoreSchemaHandler, GetJsonSchemaHandler, Strict, StringConstraints
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema
from starlette.types import Receive, Scope, Send

from app.core.asgi import HttpMiddleware
from app.core.http import request_clock
from app.core.outage import is_database_unavailable

# Deliberately simple: one @, no spaces, a dot in the domain. Deliverability is the
# CRM's business; we only refuse what is certainly not an address.
Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
    Field(examples=["admin@example.co.jp"]),
]
Phone = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        min_length=6,
        max_length=40,
        pattern=r"^\+?[0-9][0-9\- ()]{4,38}[0-9]$",
    ),
    Field(examples=["03-1234-5678"]),
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]

# ---- issue 9 §4: bounded business dates, months and amounts ---------------------------
#
# Every business date and month a request carries lies in the business window (see
# docs/decisions.md): from FIRST_BUSINESS_DAY to 31 December of (today's Tokyo year +
# YEARS_AHEAD), never past OUTER_LAST_BUSINESS_DAY. The outer bound is static and lives in
# the types (and the OpenAPI schema); the upper bound needs the clock, so a middleware,
# :class:`BusinessWindowMiddleware`, reads the request's clock before any parameter or
# body is validated and the types check against the window it bound. Outside a request
# (a schema built by hand, a script) the static outer window applies.

FIRST_BUSINESS_DAY = date(2000, 1, 1)
OUTER_LAST_BUSINESS_DAY = date(2099, 12, 31)
YEARS_AHEAD = 5
MAX_YEN = 10**12  # the most any one amount may be: keeps every sum far inside 64 bits
MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"
DATE_OUT_OF_RANGE = "date_out_of_range"


@dataclass(frozen=True, slots=True)
class BusinessWindow:
    """The first and last business date a request may name (both included)."""

    first: date
    last: date

    @classmethod
    def on(cls, today: date) -> BusinessWindow:
        """The window of a request made on ``today`` (a Tokyo date)."""
        last_year = min(today.year + YEARS_AHEAD, OUTER_LAST_BUSINESS_DAY.year)
        return cls(FIRST_BUSINESS_DAY, date(last_year, 12, 31))

    @property
    def first_month(self) -> str:
        return f"{self.first.year:04d}-{self.first.month:02d}"

    @property
    def last_month(self) -> str:
        return f"{self.last.year:04d}-{self.last.month:02d}"

    def check_date(self, value: date, *, what: str | None = None) -> date:
        """``value``, or a ``date_out_of_range`` error naming the window (and ``what``
        the date is, when it was not sent but derived from what was)."""
        if not self.first <= value <= self.last:
            prefix = f"{what} is {value}: " if what else ""
            raise PydanticCustomError(
                DATE_OUT_OF_RANGE,
                prefix + "use a date from {first_allowed} to {last_allowed}",
                {"first_allowed": self.first.isoformat(), "last_allowed": self.last.isoformat()},
            )
        return value

    def check_month(self, value: str) -> str:
        # ``value`` matched MONTH_PATTERN, so "YYYY-MM" strings compare in month order.
        if not self.first_month <= value <= self.last_month:
            raise PydanticCustomError(
                DATE_OUT_OF_RANGE,
                "use a month from {first_allowed} to {last_allowed}",
                {"first_allowed": self.first_month, "last_allowed": self.last_month},
            )
        return value


OUTER_WINDOW = BusinessWindow(FIRST_BUSINESS_DAY, OUTER_LAST_BUSINESS_DAY)
_window: ContextVar[BusinessWindow] = ContextVar("scms_business_window", default=OUTER_WINDOW)


def business_window() -> BusinessWindow:
    """The window of the request being validated (the outer window outside requests)."""
    return _window.get()


class BusinessWindowMiddleware(HttpMiddleware):
    """Binds each request's window, from its clock, before the route validates anything.

    The route runs in the middleware's own task, so the types below see the window bound
    here (a sync route's thread gets a copy of the context). It was an
    app-wide dependency, which FastAPI solved again on every route (issue 11).
    """

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            today = (await request_clock(scope)).today()
        except Exception as exc:
            # A sandbox's clock is read from the database. Raised here, an outage would
            # pass the exception handlers by (a 500): the route reads the clock again,
            # inside them, and answers the 503 (issue 9 §7).
            if not is_database_unavailable(exc):
                raise
            await self.app(scope, receive, send)
            return
        token = _window.set(BusinessWindow.on(today))
        try:
            await self.app(scope, receive, send)
        finally:
            _window.reset(token)


class _InWindow:
    """Pydantic marker: check a date (or a ``YYYY-MM`` month) against the window."""

    def __init__(self, *, month: bool) -> None:
        self.month = month

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        check = self._check_month if self.month else self._check_date
        return core_schema.no_info_after_validator_function(check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        if self.month:
            # The outer window as the documented pattern: 2000-01 … 2099-12.
            json_schema["pattern"] = r"^20\d{2}-(0[1-9]|1[0-2])$"
            json_schema.setdefault(
                "description",
                f"A month, `YYYY-MM`, from {OUTER_WINDOW.first_month} to December of "
                f"the current year + {YEARS_AHEAD} (at most {OUTER_WINDOW.last_month}).",
            )
        else:
            json_schema["formatMinimum"] = FIRST_BUSINESS_DAY.isoformat()
            json_schema["formatMaximum"] = OUTER_LAST_BUSINESS_DAY.isoformat()
            json_schema.setdefault(
                "description",
                f"A date, `YYYY-MM-DD`, from {FIRST_BUSINESS_DAY} to 31 December of the "
                f"current year + {YEARS_AHEAD} (at most {OUTER_LAST_BUSINESS_DAY}).",
            )
        return json_schema

    @staticmethod
    def _check_date(value: date) -> date:
        return business_window().check_date(value)

    @staticmethod
    def _check_month(value: str) -> str:
        return business_window().check_month(value)


BusinessDate = Annotated[date, _InWindow(month=False)]
"""A business date of a request: in the business window, else 422 ``date_out_of_range``."""

BusinessMonth = Annotated[str, StringConstraints(pattern=MONTH_PATTERN), _InWindow(month=True)]
"""A business month ``YYYY-MM`` of a request, in the business window."""

Yen = Annotated[int, Strict(), Gt(0), Le(MAX_YEN)]
"""A charged or received amount: whole yen (a JSON ``1e3`` or ``1000.0`` is refused),
at least 1, at most 10^12."""

Count = Annotated[int, Strict()]
"""A whole number of things (licence IDs, an item number): never a JSON float."""
