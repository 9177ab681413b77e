from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class Actor(BaseModel):
    key_id: str = Field(description="The API key's id (never the key), or an internal actor.")
    name: str | None = Field(description="The key's name; null for an actor without a key.")
    role: str | None


class Resource(BaseModel):
    type: str
    id: str


class AuditEventRead(BaseModel):
    """One entry of the operation log: who, what, when, and the values before and after.

    `seq` numbers the entries in the order they were written; `prev_hash` is the `hash` of
    entry `seq - 1`, which lets an exported log be checked for gaps and changes."""

    id: str
    seq: int
    occurred_at: datetime
    actor: Actor
    action: str
    resource: Resource
    customer_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    request_id: str | None
    prev_hash: str
    hash: str
