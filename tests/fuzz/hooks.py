"""Schemathesis hooks for ``make fuzz`` (issue 9 §5): aim generated ids at the seeded data.

Loaded by schemathesis from ``SCHEMATHESIS_HOOKS``; ``SCMS_FUZZ_IDS`` names the JSON file
of seeded ids (tests/fuzz/seed.py). A path, query or body field named like a seeded id
(``contract_id``, ``invoice_id``, …) takes one of the seeded ids most of the time and
keeps the generated value otherwise, so both real objects and unknown ids are exercised.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import strategies as st

_IDS: dict[str, list[str]] = (
    json.loads(Path(os.environ["SCMS_FUZZ_IDS"]).read_text(encoding="utf-8"))
    if os.environ.get("SCMS_FUZZ_IDS")
    else {}
)


def _aimed(values: dict[str, Any] | None) -> st.SearchStrategy[dict[str, Any] | None]:
    if not isinstance(values, dict):
        return st.just(values)
    fields: dict[str, st.SearchStrategy[Any]] = {}
    for name, value in values.items():
        seeded = _IDS.get(name)
        if seeded and isinstance(value, str | None):
            # Nine seeded ids in ten: a sampled_from over the ids plus the generated value.
            fields[name] = st.sampled_from([*seeded * 9, value])
        else:
            fields[name] = st.just(value)
    return st.fixed_dictionaries(fields)


@schemathesis.hook
def flatmap_path_parameters(
    context: schemathesis.HookContext, path_parameters: dict[str, Any] | None
) -> st.SearchStrategy[dict[str, Any] | None]:
    return _aimed(path_parameters)


@schemathesis.hook
def flatmap_query(
    context: schemathesis.HookContext, query: dict[str, Any] | None
) -> st.SearchStrategy[dict[str, Any] | None]:
    return _aimed(query)


@schemathesis.hook
def flatmap_body(context: schemathesis.HookContext, body: Any) -> st.SearchStrategy[Any]:
    if isinstance(body, dict) and any(name in _IDS for name in body):
        return _aimed(body)
    return st.just(body)
