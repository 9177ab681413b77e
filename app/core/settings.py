"""Application settings, read from the environment with the ``SCMS_`` prefix.

Loaded once through :func:`get_settings`; tests call ``get_settings.cache_clear()`` after
changing the environment.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    Field,
    SecretStr,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app.core.corporate_numbers import (
    PLACEHOLDER_REGISTRATION_NUMBER,
    is_corporate_number,
    is_registration_number,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SQLITE_URL = "sqlite+aiosqlite:///./var/scms.db"
# IPAex Gothic ships inside the package (app/invoices/fonts, with its licence): PDFs work
# on any machine without a system font (issue 9 §8).
BUNDLED_INVOICE_FONT = Path(__file__).resolve().parents[1] / "invoices" / "fonts" / "ipaexg.ttf"
_REGISTRATION_NUMBER = re.compile(r"^T\d{13}$")


class BankAccount(BaseModel):
    """A transfer account (振込先) printed on invoices and stated in their JP PINT XML."""

    bank_code: Annotated[str, StringConstraints(pattern=r"^[0-9]{4}$")]
    bank_name: Annotated[str, StringConstraints(min_length=1, max_length=60)]
    branch_code: Annotated[str, StringConstraints(pattern=r"^[0-9]{3}$")]
    branch_name: Annotated[str, StringConstraints(min_length=1, max_length=60)]
    account_type: Literal["普通", "当座"] = "普通"
    account_number: Annotated[str, StringConstraints(pattern=r"^[0-9]{7}$")]
    account_holder: Annotated[str, StringConstraints(min_length=1, max_length=100)]


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
    # Issue 11: a verified API key is trusted this long without a query; a revocation takes
    # effect at once in the revoking process, within this bound everywhere else.
    api_key_cache_seconds: float = Field(
        default=10, ge=0, le=300, description="Trust a verified API key this long (0: off)."
    )
    # Issue 11: a quote prices with the price books as checked this long ago, no query;
    # a version added is seen by quotes within this bound (other reads check every time).
    price_book_check_seconds: float = Field(
        default=1, ge=0, le=60, description="Quotes trust the price books checked this long ago."
    )
    # Issue 11: `scms serve` starts this many worker processes.
    workers: int = Field(default=1, ge=1, le=64, description="Worker processes of scms serve.")
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
    issuer_registration_number: str = PLACEHOLDER_REGISTRATION_NUMBER
    # Issue 14 §2: the issuer as invoices and their JP PINT documents state it.
    issuer_address: str = Field(default="", max_length=200, description="Issuer's address.")
    issuer_telephone: str = Field(default="", max_length=40, description="Issuer's telephone.")
    issuer_corporate_number: str | None = Field(
        default=None,
        description="法人番号 (Peppol endpoint, scheme 0188); default: the registration "
        "number's 13 digits.",
    )
    issuer_bank_accounts: list[BankAccount] = Field(
        default_factory=list, description="Transfer accounts (振込先), JSON."
    )
    # Issue 15: a sandbox deployment whose "today" integrators may move forward.
    sandbox: bool = Field(
        default=False,
        description="Sandbox mode: GET|PUT /v1/sandbox/clock move today forward (never in "
        "production).",
    )
    # Issue 14 §2: development mode accepts the placeholder registration number.
    env: Literal["development", "production"] = Field(
        default="development",
        description="`production` refuses the placeholder registration number.",
    )
    invoice_font_path: Path = Field(
        default=BUNDLED_INVOICE_FONT,
        description="Japanese TrueType font embedded in invoice PDFs (default: the bundled one).",
    )
    # issue 9 §5: a larger body is 413 before it is read (app/core/guard.py).
    max_body_bytes: int = Field(
        default=1024 * 1024, ge=1024, description="Largest request body accepted, in bytes."
    )

    # Issue 12 §1 and §5: Idempotency-Key, and the worker that does all background work.
    idempotency_ttl_hours: int = Field(
        default=24, ge=1, le=24 * 30, description="How long an Idempotency-Key is kept."
    )
    embedded_worker: bool = Field(
        default=True,
        description="`scms serve` runs a worker in its own process (off: a pool of "
        "`scms worker` processes does the background work).",
    )
    worker_lease_seconds: float = Field(
        default=30,
        ge=1,
        le=3600,
        description="A claimed job's lease; a worker that dies loses it after this.",
    )
    # Two days at least: the day's roll is queued once per (kind, date), so today's and
    # yesterday's must stay to keep a late worker from queuing them again.
    job_retention_days: int = Field(
        default=30,
        ge=2,
        le=3650,
        description="Ended background jobs (done or failed) are deleted after this many days.",
    )
    worker_poll_seconds: float = Field(
        default=1, gt=0, le=60, description="How often an idle worker looks for work."
    )

    # Issue 12 §3-4: webhooks (app/webhooks).
    webhook_retry_delays: Annotated[tuple[int, ...], NoDecode] = Field(
        default=(5, 300, 1800, 7200, 18000, 36000, 36000),
        description="Seconds between a failed webhook attempt and the next, comma-separated; "
        "after the last one the delivery is failed (kept for a manual retry).",
    )
    webhook_allow_private_urls: bool = Field(
        default=False,
        description="Accept http and private, loopback and link-local webhook URLs "
        "(development and tests only).",
    )
    webhook_timeout_seconds: float = Field(
        default=10, gt=0, le=60, description="A webhook attempt not answered 2xx by then failed."
    )
    webhook_batch_size: int = Field(
        default=100, ge=1, le=5000, description="Deliveries one deliver_due call claims."
    )
    webhook_concurrency: int = Field(
        default=20, ge=1, le=500, description="Webhook requests one delivery loop has in flight."
    )
    webhook_lease_seconds: float = Field(
        default=60,
        gt=0,
        le=3600,
        description="A claimed delivery is another worker's to take after this (a killed "
        "worker's deliveries are taken over).",
    )

    @field_validator("webhook_retry_delays", mode="before")
    @classmethod
    def _delays(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.split(",")]
            try:
                return tuple(int(p) for p in parts if p)
            except ValueError:
                raise ValueError(
                    "SCMS_WEBHOOK_RETRY_DELAYS: whole seconds, comma-separated"
                ) from None
        return value

    @field_validator("webhook_retry_delays")
    @classmethod
    def _delays_positive(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value or any(d < 1 for d in value):
            raise ValueError("SCMS_WEBHOOK_RETRY_DELAYS: at least one delay, each at least 1 s")
        return value

    # Issue 13 §3 (Art. 32.3): the operation log is kept this long, then purged daily.
    audit_retention_days: int = Field(
        default=90,
        ge=1,
        le=36500,
        description="Operation-log entries older than this many days are purged (Art. 32.3).",
    )
    # Issue 13 §4 (Art. 32.1(4)): a statistic drawn from fewer customers is suppressed.
    stats_min_customers: int = Field(
        default=3,
        ge=2,
        le=1000,
        description="A statistics figure drawn from fewer customers is suppressed.",
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
        if value != PLACEHOLDER_REGISTRATION_NUMBER and not is_registration_number(value):
            raise ValueError("SCMS_ISSUER_REGISTRATION_NUMBER: its check digit does not match")
        return value

    @field_validator("issuer_corporate_number")
    @classmethod
    def _corporate_number(cls, value: str | None) -> str | None:
        if value is not None and not is_corporate_number(value):
            raise ValueError("SCMS_ISSUER_CORPORATE_NUMBER: 13 digits with a valid check digit")
        return value

    @model_validator(mode="after")
    def _placeholder_only_in_development(self) -> Settings:
        if self.env != "development" and self.uses_placeholder_issuer:
            raise ValueError(
                "SCMS_ISSUER_REGISTRATION_NUMBER is the placeholder T0000000000000: set the "
                "real number, or SCMS_ENV=development"
            )
        return self

    @model_validator(mode="after")
    def _no_sandbox_in_production(self) -> Settings:
        # Issue 15: moving "today" in production would issue real invoices early.
        if self.env == "production" and self.sandbox:
            raise ValueError("SCMS_SANDBOX=true is refused with SCMS_ENV=production")
        return self

    @property
    def uses_placeholder_issuer(self) -> bool:
        return self.issuer_registration_number == PLACEHOLDER_REGISTRATION_NUMBER


@lru_cache
def get_settings() -> Settings:
    return Settings()
