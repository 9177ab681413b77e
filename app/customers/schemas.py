from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.core.validation import Email, Name, Phone

ExternalRef = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Address = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class CustomerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    billing_name: Name = Field(description="The name invoices are addressed to (R-INV-2).")
    email: Email
    phone: Phone | None = None
    postal_address: Address | None = None
    external_ref: ExternalRef | None = Field(default=None, description="The CRM's id; unique.")


class CustomerUpdate(BaseModel):
    """Only the fields sent change; send null to clear an optional field."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    billing_name: Name | None = None
    email: Email | None = None
    phone: Phone | None = None
    postal_address: Address | None = None
    external_ref: ExternalRef | None = None


class CustomerRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    billing_name: str
    email: str
    phone: str | None
    postal_address: str | None
    external_ref: str | None
    version: int
    created_at: datetime
    updated_at: datetime
