from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, IdColumn, Timestamp


class Event(Base):
    """One thing that happened, with the resource as its GET returned it at that moment.

    Written in the same transaction as the change (the transactional outbox): a change
    that commits has its event, one that rolls back has none. Never updated afterwards,
    but for ``dispatched_at``: when the webhooks fanned it out to their endpoints (issue 12
    §4, app/webhooks/fanout.py); the partial index holds only those still to fan out.
    """

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_type", "type"),
        Index("ix_events_occurred_at", "occurred_at"),
        Index("ix_events_customer_id", "customer_id"),
        Index(
            "ix_events_undispatched",
            "occurred_at",
            postgresql_where=text("dispatched_at IS NULL"),
            sqlite_where=text("dispatched_at IS NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True)
    type: Mapped[str] = mapped_column(String(60), nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)
    # The customer the event concerns, so that a portal key sees its own events only;
    # None for events that concern no one customer (a bill run, an endpoint).
    customer_id: Mapped[str | None] = mapped_column(IdColumn, nullable=True)
    resource_type: Mapped[str] = mapped_column(String(40), nullable=False)
    resource_id: Mapped[str] = mapped_column(IdColumn, nullable=False)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    request_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    dispatched_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)
