"""API keys already verified by this process, so the hot path makes no query (issue 11).

A key is looked up in the database once, then trusted for ``ttl`` seconds
(``SCMS_API_KEY_CACHE_SECONDS``, default 10) by the SHA-256 hash requests present it by.
The bound on a revocation is therefore:

- in the process that revokes the key (the API's DELETE, or ``scms api-keys revoke``
  run in-process), at once: the key is forgotten, and for ``ttl`` seconds afterwards it is
  not remembered again (a request racing the revocation may still have read the old row);
- in every other process (another ``--workers`` worker, another host), within ``ttl``
  seconds, when its entry expires and the next request reads the revoked row.

Unknown and revoked keys are never remembered, so a new key works at once everywhere.
``ttl`` 0 turns the cache off (every request reads its key).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from app.auth.service import Principal

DEFAULT_TTL_SECONDS = 10.0
MAX_ENTRIES = 10_000


class VerifiedKeys:
    def __init__(
        self,
        ttl: float = DEFAULT_TTL_SECONDS,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        max_entries: int = MAX_ENTRIES,
    ) -> None:
        self.ttl = ttl
        self._now = monotonic
        self._max = max_entries
        self._by_hash: dict[str, tuple[float, Principal]] = {}
        self._revoked: dict[str, float] = {}  # key id -> until when not to remember it

    def lookup(self, key_hash: str) -> Principal | None:
        entry = self._by_hash.get(key_hash)
        if entry is None:
            return None
        expires, principal = entry
        if self._now() >= expires:
            del self._by_hash[key_hash]
            return None
        return principal

    def remember(self, key_hash: str, principal: Principal) -> None:
        if self.ttl <= 0:
            return
        now = self._now()
        if self._revoked.get(principal.key_id, 0.0) > now:
            return
        if len(self._by_hash) >= self._max:
            # The oldest entry goes first (dicts keep insertion order).
            del self._by_hash[next(iter(self._by_hash))]
        self._by_hash[key_hash] = (now + self.ttl, principal)

    def forget(self, key_id: str) -> None:
        """A key revoked here stops working at once in this process."""
        now = self._now()
        self._revoked = {k: t for k, t in self._revoked.items() if t > now}
        self._revoked[key_id] = now + max(self.ttl, 0.0)
        self._by_hash = {h: e for h, e in self._by_hash.items() if e[1].key_id != key_id}


# One per process: every application in it shares what it has verified.
verified_keys = VerifiedKeys()
