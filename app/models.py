"""Every feature's models, imported in one place so Alembic sees the whole schema."""

from app.audit.models import AuditChainHead, AuditRecord
from app.auth.models import ApiKey
from app.charges.models import Charge
from app.contracts.models import (
    Contract,
    ContractEvent,
    ContractOption,
    LicenceChange,
    OnboardingInspection,
    OnboardingMilestone,
    Suspension,
)
from app.core.idempotency import IdempotencyKey
from app.core.jobs import Job
from app.core.models import Base
from app.customers.models import Customer
from app.einvoice.models import InvoiceBuyerIds, IssuedDocument
from app.events.models import Event
from app.invoices.models import (
    BillingRun,
    CreditNote,
    Invoice,
    InvoiceLine,
    IssuerSnapshot,
    NumberCounter,
    Payment,
)
from app.price_books.models import PriceBookVersion
from app.sandbox.models import SandboxClock
from app.soc_reports.models import SocReport
from app.webhooks.models import WebhookDelivery, WebhookEndpoint

__all__ = [
    "ApiKey",
    "BillingRun",
    "CreditNote",
    "Invoice",
    "InvoiceLine",
    "InvoiceBuyerIds",
    "IssuedDocument",
    "IssuerSnapshot",
    "NumberCounter",
    "Payment",
    "AuditChainHead",
    "AuditRecord",
    "Base",
    "Charge",
    "Contract",
    "ContractEvent",
    "ContractOption",
    "Customer",
    "Event",
    "IdempotencyKey",
    "Job",
    "LicenceChange",
    "OnboardingInspection",
    "OnboardingMilestone",
    "PriceBookVersion",
    "SandboxClock",
    "SocReport",
    "Suspension",
    "WebhookDelivery",
    "WebhookEndpoint",
]
