"""Documents fixed at issue (issue 14 §4, 電子帳簿保存法: 真実性).

The PDF or JP PINT XML of an invoice or credit note is rendered from its own stored data
once, at the first request, stored with its SHA-256 and from then on served from the
store, byte-identical, whatever changes later (settings, the customer record, the
renderer). Two first requests at once: both render, one insert wins, both answer the
winner's bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Literal

from fastapi import Response
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import Clock
from app.einvoice.models import IssuedDocument

Subject = Literal["invoice", "credit_note"]
Format = Literal["pdf", "jp-pint"]


def sha256_of(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


async def fixed(
    session: AsyncSession,
    subject: Subject,
    subject_id: str,
    fmt: Format,
    media_type: str,
    render: Callable[[], Awaitable[bytes]],
    clock: Clock,
) -> IssuedDocument:
    """The stored document, rendered and stored first when it is not yet."""
    key = (subject, subject_id, fmt)
    stored = await session.get(IssuedDocument, key)
    if stored is not None:
        return stored
    body = await render()
    document = IssuedDocument(
        subject=subject,
        subject_id=subject_id,
        format=fmt,
        media_type=media_type,
        body=body,
        sha256=sha256_of(body),
        created_at=clock.now(),
    )
    try:
        async with session.begin_nested():
            session.add(document)
    except IntegrityError:
        winner = await session.get(IssuedDocument, key)
        if winner is None:
            raise
        return winner
    return document


def respond(document: IssuedDocument, filename: str) -> Response:
    """The stored bytes; ETag is their SHA-256 (a strong validator: byte-identical)."""
    return Response(
        document.body,
        media_type=document.media_type,
        headers={
            "ETag": f'"{document.sha256}"',
            "Content-Disposition": f'inline; filename="{filename}"',
        },
    )
