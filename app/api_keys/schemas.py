from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.auth.roles import Role


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, examples=["Salesforce integration"])
    role: Role
    customer_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=40,
        description="Required for, and only for, the portal role.",
    )

    @model_validator(mode="after")
    def _portal_needs_customer(self) -> ApiKeyCreate:
        if self.role is Role.PORTAL and not self.customer_id:
            raise ValueError("a portal key must name the customer_id it is bound to")
        if self.role is not Role.PORTAL and self.customer_id:
            raise ValueError("only a portal key is bound to a customer_id")
        return self


class ApiKeyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    role: Role
    customer_id: str | None
    key_prefix: str = Field(description="The first characters of the key, to recognise it.")
    created_at: datetime
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyRead):
    key: str = Field(description="The secret key. Shown once: it is stored only as a hash.")
