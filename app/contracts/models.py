from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, CreatedAtMixin, IdColumn, Timestamp


class Contract(CreatedAtMixin, Base):
    """A contract from its application on (R-LC-1). ``license_ids`` and the option flags
    are the current state; their dated history lives with the contract-changes feature."""

    __tablename__ = "contracts"
    __table_args__ = (
        CheckConstraint(
            "status IN ('applied', 'accepted', 'rejected', 'withdrawn', 'onboarding', "
            "'active', 'terminated', 'cancelled')",
            name="status_known",
        ),
        CheckConstraint("license_ids BETWEEN 1 AND 1000000", name="license_ids_range"),
        CheckConstraint("onboarding_kind IN ('simple', 'standard')", name="onboarding_kind_known"),
        CheckConstraint(
            "onboarding_performed_by IN ('carrier', 'partner')", name="performed_by_known"
        ),
        # R-LC-2: the acceptance queue is read in (received_on, arrival) order.
        Index("ix_contracts_status_received", "status", "received_on", "arrival_seq"),
        Index("ix_contracts_customer_id", "customer_id"),
        # Issue 13 §4: the monthly statistics read only these columns; covering them
        # lets a scan of 100,000 contracts stay in the index.
        Index(
            "ix_contracts_stats",
            "customer_id",
            "plan",
            "status",
            "service_start_on",
            "termination_effective_on",
            "license_ids",
            "ad_integration",
        ),
        UniqueConstraint("arrival_seq"),
    )

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    plan: Mapped[str] = mapped_column(String(40), nullable=False)
    license_ids: Mapped[int] = mapped_column(Integer, nullable=False)
    soc: Mapped[bool] = mapped_column(Boolean, nullable=False)
    reserved_ip: Mapped[bool] = mapped_column(Boolean, nullable=False)
    ad_integration: Mapped[bool] = mapped_column(Boolean, nullable=False)
    onboarding_kind: Mapped[str] = mapped_column(String(20), nullable=False)
    received_on: Mapped[date] = mapped_column(Date, nullable=False)
    # Arrival order among applications received on the same day (R-LC-2).
    arrival_seq: Mapped[int] = mapped_column(Integer, nullable=False)
    planned_installation_on: Mapped[date] = mapped_column(Date, nullable=False)
    administrators: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False)
    accepted_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    out_of_order_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    rejected_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    rejection_reason: Mapped[str | None] = mapped_column(String(40), nullable=True)
    rejection_notice: Mapped[str | None] = mapped_column(Text, nullable=True)
    withdrawn_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    onboarding_started_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    # Who performs the onboarding service (Art. 20.3): the carrier or its partner; set
    # when it starts. A partner key sees the contracts whose onboarding it performs.
    onboarding_performed_by: Mapped[str | None] = mapped_column(String(20), nullable=True)
    service_start_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    # The termination, once scheduled (R-TERM-3, R-TERM-4); status turns ``terminated``
    # when its effective date has passed (see ``contracts.states.effective_status``).
    termination_reason: Mapped[str | None] = mapped_column(String(40), nullable=True)
    termination_effective_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    termination_notice_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    termination_breach_item: Mapped[int | None] = mapped_column(Integer, nullable=True)
    termination_recorded_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    cancelled_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    cancellation_at_fault: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    # How many renewals `scms contracts roll` has recorded as events (R-TERM-2).
    renewals_recorded: Mapped[int] = mapped_column(
        Integer, nullable=False, default=0, server_default="0"
    )
    predecessor_id: Mapped[str | None] = mapped_column(ForeignKey("contracts.id"), nullable=True)
    successor_id: Mapped[str | None] = mapped_column(ForeignKey("contracts.id"), nullable=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)


class OnboardingMilestone(Base):
    """A milestone of the onboarding service done (R-LC-5); one row per contract and key."""

    __tablename__ = "onboarding_milestones"
    __table_args__ = (UniqueConstraint("contract_id", "key"),)

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True)
    contract_id: Mapped[str] = mapped_column(ForeignKey("contracts.id"), nullable=False)
    key: Mapped[str] = mapped_column(String(40), nullable=False)
    done_on: Mapped[date] = mapped_column(Date, nullable=False)
    recorded_by: Mapped[str] = mapped_column(String(40), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)


class OnboardingInspection(Base):
    """An inspection (検収, Art. 20.5–20.6): accepted with a certificate, or defects."""

    __tablename__ = "onboarding_inspections"
    __table_args__ = (
        CheckConstraint("result IN ('accepted', 'nonconforming')", name="result_known"),
        Index("ix_onboarding_inspections_contract_id", "contract_id"),
    )

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True)
    contract_id: Mapped[str] = mapped_column(ForeignKey("contracts.id"), nullable=False)
    inspected_on: Mapped[date] = mapped_column(Date, nullable=False)
    result: Mapped[str] = mapped_column(String(20), nullable=False)
    certificate_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    defects: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    recorded_by: Mapped[str] = mapped_column(String(40), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)


class ContractEvent(Base):
    """One state change of a contract (R-LC-10), written with the change itself."""

    __tablename__ = "contract_events"
    __table_args__ = (Index("ix_contract_events_contract_id", "contract_id", "id"),)

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True)
    contract_id: Mapped[str] = mapped_column(ForeignKey("contracts.id"), nullable=False)
    type: Mapped[str] = mapped_column(String(60), nullable=False)
    business_date: Mapped[date] = mapped_column(Date, nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)
    actor_key_id: Mapped[str] = mapped_column(String(40), nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)


class LicenceChange(Base):
    """A dated change of the licence quantity (R-LC-7); a decrease is a partial
    termination with its notice. The quantity at service start is the contract's own."""

    __tablename__ = "licence_changes"
    __table_args__ = (
        UniqueConstraint("contract_id", "effective_on"),
        CheckConstraint("license_ids BETWEEN 1 AND 1000000", name="license_ids_range"),
    )

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True)
    contract_id: Mapped[str] = mapped_column(ForeignKey("contracts.id"), nullable=False)
    effective_on: Mapped[date] = mapped_column(Date, nullable=False)
    license_ids: Mapped[int] = mapped_column(Integer, nullable=False)
    previous_license_ids: Mapped[int] = mapped_column(Integer, nullable=False)
    notice_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    recorded_by: Mapped[str] = mapped_column(String(40), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)


class ContractOption(Base):
    """A monthly option in effect from ``starts_on`` to ``ends_on`` (inclusive; R-CHG-2).

    The options applied for open a period at the service start; later additions and
    removals (a partial termination, R-LC-7) open and close periods.
    """

    __tablename__ = "contract_options"
    __table_args__ = (
        CheckConstraint("option IN ('soc', 'reserved_ip')", name="option_monthly"),
        Index("ix_contract_options_contract_id", "contract_id"),
    )

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True)
    contract_id: Mapped[str] = mapped_column(ForeignKey("contracts.id"), nullable=False)
    option: Mapped[str] = mapped_column(String(20), nullable=False)
    starts_on: Mapped[date] = mapped_column(Date, nullable=False)
    ends_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    removal_notice_on: Mapped[date | None] = mapped_column(Date, nullable=True)


class Suspension(Base):
    """A period in which the service is suspended (R-LC-9, Art. 18); billing goes on."""

    __tablename__ = "suspensions"
    __table_args__ = (
        CheckConstraint(
            "reason IN ('breach', 'third_party_harm', 'maintenance', 'contractor_request', "
            "'other')",
            name="reason_known",
        ),
        Index("ix_suspensions_contract_id", "contract_id"),
    )

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True)
    contract_id: Mapped[str] = mapped_column(ForeignKey("contracts.id"), nullable=False)
    starts_on: Mapped[date] = mapped_column(Date, nullable=False)
    ends_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    reason: Mapped[str] = mapped_column(String(40), nullable=False)
    recorded_by: Mapped[str] = mapped_column(String(40), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)
