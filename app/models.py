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
from app.core.models import Base
from app.customers.models import Customer
from app.einvoice.models import InvoiceBuyerIds, IssuedDocument
from app.invoices.models import (
    BillingRun,
    CreditNote,
    Invoice,
    InvoiceLine,
    NumberCounter,
    Payment,
)
from app.price_books.models import PriceBookVersion
from app.soc_reports.models import SocReport

__all__ = [
    "ApiKey",
    "BillingRun",
    "CreditNote",
    "Invoice",
    "InvoiceLine",
    "InvoiceBuyerIds",
    "IssuedDocument",
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
    "LicenceChange",
    "OnboardingInspection",
    "OnboardingMilestone",
    "PriceBookVersion",
    "SocReport",
    "Suspension",
]
