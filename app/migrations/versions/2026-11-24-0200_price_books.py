"""price books, with the 2026-04-24 version of DOMAIN.md §1 (R-CAT-4)

Revision ID: 0002_price_books
Revises: 0001_api_keys
Create Date: 2026-11-24 02:00:00

The first version's values are literals on purpose: a migration is frozen history and
must install the same rows whatever the application code says later.
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0002_price_books"
down_revision: str | None = "0001_api_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INITIAL_PRICES = {
    "basic": 50_000,
    "foundation-essential": 8_600,
    "foundation-advantage": 11_000,
    "complete-essential": 13_600,
    "complete-advantage": 21_600,
    "soc-base": 100_000,
    "soc-users": 1_000,
    "reserved-ip": 80_000,
    "onboarding-simple": 550_000,
    "onboarding-standard": 1_000_000,
    "ad-integration": 350_000,
}
# R-CHG-4: every charge kind except early-termination and late-payment.
INITIAL_TAXABLE_KINDS = [
    "cancellation",
    "collection",
    "monthly",
    "one-time",
    "other",
    "overage",
    "surcharge",
    "work",
]


def upgrade() -> None:
    price_books = op.create_table(
        "price_books",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("prices", sa.JSON(), nullable=False),
        sa.Column("tax_rate_percent", sa.String(length=16), nullable=False),
        sa.Column("late_payment_rate_percent", sa.String(length=16), nullable=False),
        sa.Column("taxable_kinds", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_price_books")),
        sa.UniqueConstraint("effective_from", name=op.f("uq_price_books_effective_from")),
    )
    op.bulk_insert(
        price_books,
        [
            {
                "id": "pbk_2026_04_24",
                "effective_from": date(2026, 4, 24),
                "prices": INITIAL_PRICES,
                "tax_rate_percent": "10",
                "late_payment_rate_percent": "14.5",
                "taxable_kinds": INITIAL_TAXABLE_KINDS,
                "created_by": None,
                "created_at": datetime(2026, 11, 24, 2, 0, tzinfo=UTC),
            }
        ],
    )


def downgrade() -> None:
    op.drop_table("price_books")
