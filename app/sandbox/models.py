from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Integer
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, Timestamp


class SandboxClock(Base):
    """How many days the sandbox runs ahead of the real date: one row, shared by every API
    process and worker, so that all of them agree on "today". No row: no offset."""

    __tablename__ = "sandbox_clock"
    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        CheckConstraint("offset_days >= 0", name="never_back"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    offset_days: Mapped[int] = mapped_column(Integer, nullable=False)
    moved_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)
