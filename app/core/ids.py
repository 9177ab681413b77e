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


# Two symbols for each 10 bits, and where each pair starts: the 26 symbols of a 128-bit
# value in 13 look-ups, most significant first (a symbol at a time was a loop of 26 in
# Python, and a request makes three ids: issue 11).
_PAIRS = tuple(high + low for high in _ALPHABET for low in _ALPHABET)
_SHIFTS = tuple(range(120, -10, -10))


def new_id(prefix: str) -> str:
    value = _next_value()
    return f"{prefix}_{''.join([_PAIRS[value >> shift & 1023] for shift in _SHIFTS])}"
