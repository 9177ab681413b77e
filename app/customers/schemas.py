from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from app.core.corporate_numbers import is_corporate_number, is_registration_number
from app.core.validation import Email, Name, Phone

ExternalRef = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Address = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


def _corporate_number(value: str) -> str:
    if not is_corporate_number(value):
        raise ValueError("the check digit (the first digit) does not match the other 12")
    return value


def _registration_number(value: str) -> str:
    if not is_registration_number(value):
        raise ValueError("the check digit (the first digit after T) does not match")
    return value


# Issue 14 §2: 法人番号 (13 digits, check digit), 登録番号 (T + 13) and a Peppol participant id.
CorporateNumber = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9]{13}$"),
    AfterValidator(_corporate_number),
    Field(description="法人番号: 13 digits, the first a check digit.", examples=["7000012050002"]),
]
RegistrationNumber = Annotated[
    str,
    StringConstraints(pattern=r"^T[0-9]{13}$"),
    AfterValidator(_registration_number),
    Field(description="適格請求書発行事業者登録番号 when the customer is a registered issuer."),
]
PeppolId = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9]{4}:[0-9A-Za-z._-]{1,50}$"),
    Field(description="Peppol participant id, `scheme:identifier` (e.g. `0188:…`)."),
]


class CustomerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    billing_name: Name = Field(description="The name invoices are addressed to (R-INV-2).")
    email: Email
    phone: Phone | None = None
    postal_address: Address | None = None
    external_ref: ExternalRef | None = Field(default=None, description="The CRM's id; unique.")
    corporate_number: CorporateNumber | None = None
    registration_number: RegistrationNumber | None = None
    peppol_id: PeppolId | None = None


class CustomerUpdate(BaseModel):
    """Only the fields sent change; send null to clear an optional field."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    billing_name: Name | None = None
    email: Email | None = None
    phone: Phone | None = None
    postal_address: Address | None = None
    external_ref: ExternalRef | None = None
    corporate_number: CorporateNumber | None = None
    registration_number: RegistrationNumber | None = None
    peppol_id: PeppolId | None = None


class CustomerRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    billing_name: str
    email: str
    phone: str | None
    postal_address: str | None
    external_ref: str | None
    corporate_number: str | None
    registration_number: str | None
    peppol_id: str | None
    version: int
    created_at: datetime
    updated_at: datetime
