"""Opaque, time-ordered identifiers such as ``ctr_01JD…``.

A ULID body (48-bit millisecond time + 80 random bits, Crockford base32) keeps ids in
creation order, so "newest first" lists can page on the id alone and new rows land at
the end of the primary-key index. Within one millisecond the random part is incremented
(the ULID "monotonic" rule), so ids made by one process never sort out of order.
"""

from __future__ import annotations

import secrets
import threading
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_lock = threading.Lock()
_last = 0


def _next_value() -> int:
    global _last
    with _lock:
        candidate = (time.time_ns() // 1_000_000) << 80 | secrets.randbits(80)
        if candidate <= _last:
            candidate = _last + 1
        _last = candidate
        return candidate


def new_id(prefix: str) -> str:
    value = _next_value()
    chars = []
    for _ in range(26):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return f"{prefix}_{''.join(reversed(chars))}"
