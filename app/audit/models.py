from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, IdColumn, Timestamp


class AuditRecord(Base):
    """One change made through the API, written in the same transaction as the change."""

    __tablename__ = "audit_records"
    __table_args__ = (
        Index("ix_audit_records_resource", "resource_type", "resource_id"),
        Index("ix_audit_records_occurred_at", "occurred_at"),
    )

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)
    actor_key_id: Mapped[str] = mapped_column(String(40), nullable=False)
    action: Mapped[str] = mapped_column(String(80), nullable=False)
    resource_type: Mapped[str] = mapped_column(String(40), nullable=False)
    resource_id: Mapped[str] = mapped_column(IdColumn, nullable=False)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    request_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
