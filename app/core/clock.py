"""The one source of "today" and "now" (business dates are Tokyo dates, never UTC).

Nothing else in the application reads the wall clock for business dates: routes take the
clock as a dependency, and tests replace it with a :class:`FixedClock`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

TOKYO = ZoneInfo("Asia/Tokyo")


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware."""
        ...

    def today(self) -> date:
        """Today's date in Asia/Tokyo."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        return datetime.now(TOKYO).date()


class FixedClock:
    """A clock that stands still until the test moves it."""

    def __init__(self, instant: datetime) -> None:
        if instant.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware instant")
        self.instant = instant

    @classmethod
    def on(cls, day: date, hour: int = 10) -> FixedClock:
        return cls(datetime(day.year, day.month, day.day, hour, tzinfo=TOKYO))

    def now(self) -> datetime:
        return self.instant.astimezone(UTC)

    def today(self) -> date:
        return self.instant.astimezone(TOKYO).date()
