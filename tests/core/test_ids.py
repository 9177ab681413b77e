"""Ids are opaque, prefixed and sort in creation order, even within one millisecond."""

from __future__ import annotations

from unittest.mock import patch

from hypothesis import given
from hypothesis import strategies as st

from app.core.ids import new_id


def test_ids_made_in_a_burst_sort_in_creation_order() -> None:
    ids = [new_id("ctr") for _ in range(5000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_ids_carry_their_prefix_and_a_26_character_body() -> None:
    value = new_id("cus")
    prefix, body = value.split("_")
    assert prefix == "cus"
    assert len(body) == 26


@given(st.integers(min_value=0, max_value=2**128 - 1))
def test_the_body_is_the_value_in_crockford_base32(value: int) -> None:
    """The ULID encoding: 26 symbols of 5 bits, most significant first (the 13 look-ups of
    two symbols each give what a symbol at a time gives)."""
    digits = []
    rest = value
    for _ in range(26):
        rest, digit = divmod(rest, 32)
        digits.append("0123456789ABCDEFGHJKMNPQRSTVWXYZ"[digit])
    with patch("app.core.ids._next_value", return_value=value):
        assert new_id("cus") == "cus_" + "".join(reversed(digits))
