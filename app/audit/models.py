"""The operation log (R-PTN-2, Art. 32.3): who changed what, when, before and after."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, IdColumn, Timestamp


class AuditRecord(Base):
    """One change made through the API, written in the same transaction as the change.

    ``seq`` numbers the entries without gaps in the order they were written; ``prev_hash``
    is the ``hash`` of entry ``seq - 1`` (app/audit/chain.py), so a changed, removed or
    inserted entry breaks the chain that ``scms audit verify`` walks.
    """

    __tablename__ = "audit_records"
    __table_args__ = (
        Index("ix_audit_records_resource", "resource_type", "resource_id"),
        Index("ix_audit_records_occurred_at", "occurred_at"),
        Index("ix_audit_records_seq", "seq", unique=True),
        Index("ix_audit_records_customer_id", "customer_id", "seq"),
    )

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)
    actor_key_id: Mapped[str] = mapped_column(String(40), nullable=False)
    action: Mapped[str] = mapped_column(String(80), nullable=False)
    resource_type: Mapped[str] = mapped_column(String(40), nullable=False)
    resource_id: Mapped[str] = mapped_column(IdColumn, nullable=False)
    # The customer the entry belongs to (a portal key sees its own customer's entries);
    # None for entries of no one customer (price books, staff keys).
    customer_id: Mapped[str | None] = mapped_column(IdColumn, nullable=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    request_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)


class AuditChainHead(Base):
    """The one row every writer locks to append to the chain (no two writers fork it).

    ``last_seq``/``last_hash`` are the newest entry's; ``anchor_seq``/``anchor_hash`` the
    newest purged entry's (0 and the genesis hash before any purge), so the chain is
    verified from the first kept entry on and a removed head or tail is still noticed.
    """

    __tablename__ = "audit_chain_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(BigInteger, nullable=False)
    last_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    anchor_seq: Mapped[int] = mapped_column(BigInteger, nullable=False)
    anchor_hash: Mapped[str] = mapped_column(String(64), nullable=False)
