"""The issuer as an invoice states it, fixed at issue (issue 14 §3, §4; 電子帳簿保存法: 真実性).

The name and registration number are columns of every invoice. The address, telephone,
法人番号 and transfer accounts come from the settings, which change (a move, a new bank):
at issue they are written once as an :class:`IssuerSnapshot`, keyed by the SHA-256 of
their canonical JSON, and the invoice or credit note names it. Its PDF and XML, whenever
first rendered, state what the customer was told at issue, never today's settings.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import Clock
from app.core.settings import BankAccount, Settings
from app.invoices.composition import Issuer
from app.invoices.models import IssuerSnapshot


@dataclass(frozen=True, slots=True)
class IssuerContact:
    """What documents state of the issuer beyond the invoice's name and number."""

    address: str = ""
    telephone: str = ""
    corporate_number: str | None = None
    accounts: tuple[BankAccount, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> IssuerContact:
        return cls(
            address=settings.issuer_address,
            telephone=settings.issuer_telephone,
            corporate_number=settings.issuer_corporate_number,
            accounts=tuple(settings.issuer_bank_accounts),
        )

    @classmethod
    def from_json(cls, details: dict[str, Any]) -> IssuerContact:
        return cls(
            address=str(details["address"]),
            telephone=str(details["telephone"]),
            corporate_number=details["corporate_number"],
            accounts=tuple(BankAccount.model_validate(a) for a in details["accounts"]),
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "telephone": self.telephone,
            "corporate_number": self.corporate_number,
            "accounts": [a.model_dump(mode="json") for a in self.accounts],
        }


def snapshot_key(contact: IssuerContact) -> str:
    canonical = json.dumps(contact.as_json(), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def issuer_at_issue(session: AsyncSession, settings: Settings, clock: Clock) -> Issuer:
    """The issuer for invoices issued now: its snapshot exists once this returns.

    Two transactions writing the same snapshot at once: one insert wins, the other finds
    its row (the savepoint keeps the caller's transaction intact).
    """
    contact = IssuerContact.from_settings(settings)
    key = snapshot_key(contact)
    if await session.get(IssuerSnapshot, key) is None:
        try:
            async with session.begin_nested():
                session.add(
                    IssuerSnapshot(id=key, details=contact.as_json(), created_at=clock.now())
                )
        except IntegrityError:
            if await session.get(IssuerSnapshot, key) is None:
                raise
    return Issuer(settings.issuer_name, settings.issuer_registration_number, key)


async def contact_of(
    session: AsyncSession, snapshot_id: str | None, settings: Settings
) -> IssuerContact:
    """The contact a document states: its snapshot; for documents issued before snapshots
    were kept (migration 0014), the settings at their first rendering, as then."""
    if snapshot_id is None:
        return IssuerContact.from_settings(settings)
    snapshot = await session.get(IssuerSnapshot, snapshot_id)
    if snapshot is None:  # the foreign key forbids it
        raise LookupError(f"issuer snapshot {snapshot_id} is missing")
    return IssuerContact.from_json(snapshot.details)
