"""The declarative base every feature's models share, with a constraint naming convention.

A fixed naming convention gives every index and constraint a predictable name, so
Alembic can drop or alter them on both SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# Timestamps are stored timezone-aware (UTC) on both databases.
Timestamp = DateTime(timezone=True)
IdColumn = String(40)


class CreatedAtMixin:
    created_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)
