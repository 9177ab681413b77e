"""The kept renders of the reads (issue 11): bounded, least recently used out, and a
page assembled from kept items is the Page model's own JSON."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel

from app.core.pagination import Page
from app.core.renders import Renders, page_json


class Item(BaseModel):
    id: str
    on: date
    amount: int


def test_a_render_is_kept_as_json_by_its_key() -> None:
    renders = Renders(8)
    key = ("ctr_1", 3, date(2026, 12, 1))
    assert renders.get(key) is None
    text = renders.put(key, {"id": "ctr_1", "on": date(2026, 12, 1), "amount": 1})
    assert text == b'{"id":"ctr_1","on":"2026-12-01","amount":1}'
    assert renders.get(key) == text
    assert renders.get(("ctr_1", 3, date(2026, 12, 2))) is None  # another day, another key


def test_the_least_recently_used_render_goes_first() -> None:
    renders = Renders(2)
    renders.put(("a",), 1)
    renders.put(("b",), 2)
    assert renders.get(("a",)) == b"1"  # a is now the most recently used
    renders.put(("c",), 3)
    assert len(renders) == 2
    assert renders.get(("b",)) is None
    assert (renders.get(("a",)), renders.get(("c",))) == (b"1", b"3")


def test_a_page_of_kept_items_is_the_page_models_json() -> None:
    items = [Item(id=f"i{n}", on=date(2028, 2, 29), amount=n * 1_000) for n in range(3)]
    renders = Renders(8)
    kept = [renders.put((i.id,), i.model_dump()) for i in items]
    for cursor in (None, "eyJrIjoiaTIifQ"):
        expected = Page[Item](items=items, next_cursor=cursor).model_dump_json().encode()
        assert page_json(kept, cursor) == expected
    assert page_json([], None) == Page[Item](items=[], next_cursor=None).model_dump_json().encode()
