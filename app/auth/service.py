"""Who is calling: the principal a presented API key stands for.

Keys are 256 bits from ``secrets`` (app/api_keys issues them); a fast SHA-256 is the
right hash for secrets of that entropy (a slow password hash protects guessable
passwords, which these are not), and it lets every request find its key with one
indexed lookup.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.repository import ApiKeyRepository
from app.auth.roles import Role

KEY_PREFIX = "scms_"
ENV_ADMIN_KEY_ID = "env-admin"


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's id (never the key), its role, its customer if bound."""

    key_id: str
    role: Role
    customer_id: str | None = None
    request_id: str | None = None  # the request it came with, for the audit log

    def sees_customer(self, customer_id: str) -> bool:
        return self.role is not Role.PORTAL or self.customer_id == customer_id


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


async def authenticate(
    session: AsyncSession, presented: str, env_admin_key: str | None
) -> Principal | None:
    """The principal a presented key stands for, or None for an unknown or revoked key."""
    if env_admin_key and hmac.compare_digest(presented.encode(), env_admin_key.encode()):
        return Principal(key_id=ENV_ADMIN_KEY_ID, role=Role.ADMIN)
    if not presented.startswith(KEY_PREFIX):
        return None
    key = await ApiKeyRepository(session).by_hash(hash_key(presented))
    if key is None or key.revoked_at is not None:
        return None
    return Principal(key_id=key.id, role=Role(key.role), customer_id=key.customer_id)
