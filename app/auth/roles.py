"""The five roles of API.md. A key has exactly one."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"  # everything, API keys, price books
    OPERATOR = "operator"  # internal staff: all business operations
    CRM = "crm"  # customers, applications, reading contracts and invoices
    PORTAL = "portal"  # bound to one customer: reads its own data, files notices
    PARTNER = "partner"  # SOC reports, onboarding milestones
