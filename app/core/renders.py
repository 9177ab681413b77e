"""Read models (and quotes) kept as their JSON, by what they were made from (issue 11).

A read model that is a pure function of one statement row and the day (a contract's, an
invoice's) is the same JSON for the same row and day. Integrations poll the same
resources over and over, and building and serialising the model was most of a read's
CPU, so the reads keep the last renders, keyed by the whole row (every column, the child
rows' JSON as text) and the day: any change to the resource or its children changes its
row, and midnight the day, so a kept render is never stale. A quote is kept the same
way, by the price book version (never changed once stored) and the request's values.
Bounded, least recently used out; per process.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Sequence
from typing import Any

from pydantic_core import to_json

Key = tuple[Hashable, ...]


class Renders:
    def __init__(self, size: int) -> None:
        self._size = size
        self._kept: OrderedDict[Key, bytes] = OrderedDict()

    def get(self, key: Key) -> bytes | None:
        found = self._kept.get(key)
        if found is not None:
            self._kept.move_to_end(key)
        return found

    def put(self, key: Key, data: Any) -> bytes:
        """Keep ``data`` (plain JSON values, in the response model's shape) as JSON."""
        text = to_json(data)
        self._kept[key] = text
        if len(self._kept) > self._size:
            self._kept.popitem(last=False)
        return text

    def __len__(self) -> int:
        return len(self._kept)


def page_json(items: Sequence[bytes], next_cursor: str | None) -> bytes:
    """A ``Page``'s JSON from its items' JSON (the model's field order: items, next_cursor)."""
    return b'{"items":[' + b",".join(items) + b'],"next_cursor":' + to_json(next_cursor) + b"}"
