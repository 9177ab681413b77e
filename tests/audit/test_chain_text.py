"""The hashed text of an entry (R-PTN-2, issue 13 §3), written in two parts so that
PostgreSQL can put in the seq and the previous hash (issue 11): it must stay the text the
migration that started the chain froze, the JSON array of every value in order."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from app.audit.chain import entry_hash, hashed_text, inner_text, instant_text

_TEXT = st.text(st.characters(codec="utf-8"), max_size=12)  # (no lone surrogates)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | _TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=8,
)
_HEX = st.text("0123456789abcdef", min_size=64, max_size=64)


def _frozen_rule(values: dict[str, Any], seq: int, prev_hash: str) -> str:
    """The rule as the migration wrote it: one json.dumps of the whole array."""
    array = [
        seq,
        values["id"],
        instant_text(values["occurred_at"]),
        values["actor_key_id"],
        values["action"],
        values["resource_type"],
        values["resource_id"],
        values["customer_id"],
        values["before"],
        values["after"],
        values["request_id"],
        prev_hash,
    ]
    text = json.dumps(array, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


@given(
    seq=st.integers(min_value=1, max_value=2**63 - 1),
    prev_hash=_HEX,
    texts=st.lists(_TEXT, min_size=5, max_size=5),
    customer_id=st.none() | _TEXT,
    request_id=st.none() | _TEXT,
    before=st.none() | st.dictionaries(_TEXT, _JSON, max_size=4),
    after=st.none() | st.dictionaries(_TEXT, _JSON, max_size=4),
    instant=st.datetimes(timezones=st.just(UTC)),
)
def test_r_ptn_2_the_two_part_text_hashes_as_the_frozen_rule(
    seq: int,
    prev_hash: str,
    texts: list[str],
    customer_id: str | None,
    request_id: str | None,
    before: Any,
    after: Any,
    instant: datetime,
) -> None:
    values = {
        "id": texts[0],
        "occurred_at": instant,
        "actor_key_id": texts[1],
        "action": texts[2],
        "resource_type": texts[3],
        "resource_id": texts[4],
        "customer_id": customer_id,
        "before": before,
        "after": after,
        "request_id": request_id,
    }
    expected = _frozen_rule(values, seq, prev_hash)
    assert entry_hash(seq=seq, prev_hash=prev_hash, **values) == expected
    text = hashed_text(seq, inner_text(**values), prev_hash)
    assert hashlib.sha256(text.encode()).hexdigest() == expected
