"""Ids are opaque, prefixed and sort in creation order, even within one millisecond."""

from __future__ import annotations

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
