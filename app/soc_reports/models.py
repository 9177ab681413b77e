from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, CreatedAtMixin, IdColumn

STATUSES = ("normal", "warning", "incident", "critical")


class SocReport(CreatedAtMixin, Base):
    """A status report for a period of a contract with ``soc`` (R-PTN-1). A record: never
    changed; a correction is a new report naming the one it supersedes (each at most once)."""

    __tablename__ = "soc_reports"
    __table_args__ = (
        CheckConstraint(
            "status IN ('normal', 'warning', 'incident', 'critical')", name="status_known"
        ),
        CheckConstraint("incident_count >= 0", name="incident_count_not_negative"),
        CheckConstraint("period_end >= period_start", name="period_ordered"),
        Index("ix_soc_reports_contract_period", "contract_id", "period_start", "period_end"),
        Index("ix_soc_reports_customer_id", "customer_id", "created_at", "id"),
        Index("ix_soc_reports_supersedes_id", "supersedes_id", unique=True),
    )

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True)
    contract_id: Mapped[str] = mapped_column(ForeignKey("contracts.id"), nullable=False)
    # The contract's customer, kept with the report so a portal key's list is one query.
    customer_id: Mapped[str] = mapped_column(IdColumn, nullable=False)
    period_start: Mapped[date] = mapped_column(Date, nullable=False)
    period_end: Mapped[date] = mapped_column(Date, nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    incident_count: Mapped[int] = mapped_column(Integer, nullable=False)
    summary: Mapped[str] = mapped_column(Text, nullable=False)
    supersedes_id: Mapped[str | None] = mapped_column(ForeignKey("soc_reports.id"), nullable=True)
    reported_by: Mapped[str] = mapped_column(String(40), nullable=False)
