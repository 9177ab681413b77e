"""One attempt: the URL checked after DNS, the signed POST, its outcome within the timeout.

Redirects are not followed (a 3xx is a failure) and the response body is never read: a
receiver answers with its status code alone. (Reading short bodies to keep connections
alive was tried: httpcore's pool then made a concurrent batch about half as fast.)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from app.core.clock import Clock
from app.webhooks import signing
from app.webhooks.urls import UrlRefused, check_url

if TYPE_CHECKING:
    import httpx

URL_NOT_ALLOWED = "webhook_url_not_allowed"


@dataclass(frozen=True)
class Attempt:
    status_code: int | None
    duration_ms: int
    error: str | None
    attempted_at: datetime

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def gone(self) -> bool:
        return self.status_code == 410

    @property
    def outcome(self) -> str:
        if self.delivered:
            return "delivered"
        if self.gone:
            return "gone"
        if self.error is not None and self.error.startswith(URL_NOT_ALLOWED):
            return "refused"
        return "timeout" if self.error and self.error.startswith("timed out") else "failed"


def secrets_in_force(
    secret: str, previous: str | None, previous_expires_at: datetime | None, now: datetime
) -> list[str]:
    """The current secret, and the one before it during the 24 h after a rotation."""
    if previous is not None and previous_expires_at is not None and now < previous_expires_at:
        return [secret, previous]
    return [secret]


def new_client() -> httpx.AsyncClient:
    # httpx (about 6 MiB resident) on first use, not when the API imports this module for
    # its test sends: a process that sends nothing need not carry it (issue 13 §3 bounds a
    # whole exporting process at 100 MB).
    import httpx

    # The total time is bounded by send()'s own timeout; no redirect is followed.
    return httpx.AsyncClient(follow_redirects=False, trust_env=False)


async def send(
    client: httpx.AsyncClient,
    *,
    url: str,
    signing_secrets: Sequence[str],
    message_id: str,
    content: str,
    clock: Clock,
    timeout: float,
    allow_private: bool,
    extra_headers: Mapping[str, str] | None = None,
) -> Attempt:
    import httpx  # loaded by new_client() already: the client passed in is one

    attempted_at = clock.now()
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        await check_url(url, allow_private=allow_private)
    except UrlRefused as exc:
        return Attempt(None, elapsed(), f"{URL_NOT_ALLOWED}: {exc}"[:500], attempted_at)
    sent_headers = {
        **signing.headers(signing_secrets, message_id, attempted_at, content),
        **(extra_headers or {}),
    }
    try:
        async with asyncio.timeout(timeout):
            request = client.build_request(
                "POST", url, content=content.encode(), headers=sent_headers, timeout=timeout
            )
            response = await client.send(request, stream=True)
            await response.aclose()
    except (TimeoutError, httpx.TimeoutException):
        return Attempt(None, elapsed(), f"timed out after {timeout:g} s", attempted_at)
    except httpx.HTTPError as exc:
        return Attempt(None, elapsed(), f"{type(exc).__name__}: {exc}"[:500], attempted_at)
    code = response.status_code
    error = None if 200 <= code < 300 else f"HTTP {code}"
    return Attempt(code, elapsed(), error, attempted_at)
