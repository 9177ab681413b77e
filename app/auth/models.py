from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, CreatedAtMixin, IdColumn, Timestamp


class ApiKey(CreatedAtMixin, Base):
    """An API key, stored only as its SHA-256 hash; the key itself is shown once."""

    __tablename__ = "api_keys"
    __table_args__ = (
        CheckConstraint(
            "role IN ('admin', 'operator', 'crm', 'portal', 'partner')", name="role_known"
        ),
        CheckConstraint(
            "(role = 'portal') = (customer_id IS NOT NULL)", name="portal_has_customer"
        ),
        Index("ix_api_keys_key_hash", "key_hash", unique=True),
    )

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    role: Mapped[str] = mapped_column(String(20), nullable=False)
    customer_id: Mapped[str | None] = mapped_column(IdColumn, nullable=True)
    key_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    key_prefix: Mapped[str] = mapped_column(String(16), nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)
