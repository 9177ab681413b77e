"""Application settings, read from the environment with the ``SCMS_`` prefix.

Loaded once through :func:`get_settings`; tests call ``get_settings.cache_clear()`` after
changing the environment.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SQLITE_URL = "sqlite+aiosqlite:///./var/scms.db"
# IPAex Gothic ships inside the package (app/invoices/fonts, with its licence): PDFs work
# on any machine without a system font (issue 9 §8).
BUNDLED_INVOICE_FONT = Path(__file__).resolve().parents[1] / "invoices" / "fonts" / "ipaexg.ttf"
_REGISTRATION_NUMBER = re.compile(r"^T\d{13}$")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SCMS_", extra="ignore")

    database_url: str = Field(
        default=DEFAULT_SQLITE_URL,
        description="SQLAlchemy async URL: sqlite+aiosqlite:///path or postgresql+asyncpg://…",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    admin_api_key: SecretStr | None = Field(
        default=None,
        description="Accepted as an admin key when set (first start, containers). Never logged.",
    )
    log_level: str = "INFO"
    db_pool_size: int = Field(default=10, ge=1)
    db_echo: bool = False
    # Issue 9 §7: a database that is away or partitioned costs a request seconds, not minutes.
    db_connect_timeout_seconds: float = Field(
        default=5, gt=0, le=300, description="Give up opening a database connection after this."
    )
    db_statement_timeout_seconds: float = Field(
        default=10,
        gt=0,
        le=3600,
        description="PostgreSQL statement_timeout (the client gives up 1 s later); SQLite busy "
        "timeout.",
    )
    db_retry_after_seconds: int = Field(
        default=5, ge=1, le=3600, description="Retry-After of a 503 database_unavailable."
    )
    invoice_issue_day: int = Field(
        default=1,
        ge=1,
        le=28,
        description="Day of the month after the service month on which invoices are issued.",
    )
    invoice_due_month_offset: int = Field(
        default=0,
        ge=0,
        le=12,
        description="Invoices are due on the last day of the issue month plus this many months.",
    )
    invoice_min_days_to_pay: int = Field(
        default=10,
        ge=0,
        le=365,
        description="An invoice is never due sooner than this many days after its issue "
        "date; else it falls due on the next month's last day (R-INV-1, issue 9 §1).",
    )
    bill_run_batch_size: int = Field(default=1000, ge=1, le=20000)
    issuer_name: str = "アルテリア・ネットワークス株式会社"
    issuer_registration_number: str = "T0000000000000"
    invoice_font_path: Path = Field(
        default=BUNDLED_INVOICE_FONT,
        description="Japanese TrueType font embedded in invoice PDFs (default: the bundled one).",
    )
    # issue 9 §5: a larger body is 413 before it is read (app/core/guard.py).
    max_body_bytes: int = Field(
        default=1024 * 1024, ge=1024, description="Largest request body accepted, in bytes."
    )

    @field_validator("database_url")
    @classmethod
    def _supported_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "SCMS_DATABASE_URL must start with sqlite+aiosqlite:// or postgresql+asyncpg://"
            )
        return value

    @field_validator("issuer_registration_number")
    @classmethod
    def _registration_number(cls, value: str) -> str:
        # R-INV-2: a qualified invoice carries "T" followed by 13 digits.
        if not _REGISTRATION_NUMBER.match(value):
            raise ValueError("SCMS_ISSUER_REGISTRATION_NUMBER must be 'T' followed by 13 digits")
        return value


@lru_cache
def get_settings() -> Settings:
    return Settings()
