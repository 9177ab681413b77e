"""Opaque, time-ordered identifiers such as ``ctr_01JD…``.

A ULID body (48-bit millisecond time + 80 random bits, Crockford base32) keeps ids roughly
in creation order, so "newest first" lists can page on the id alone and new rows land at
the end of the primary-key index.
"""

from __future__ import annotations

import secrets
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_id(prefix: str) -> str:
    value = (time.time_ns() // 1_000_000) << 80 | secrets.randbits(80)
    chars = []
    for _ in range(26):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return f"{prefix}_{''.join(reversed(chars))}"
