"""Plain words for pydantic's validation errors (issue 9 §6).

A 422 says what is accepted ("use YYYY-MM-DD", "must be an integer", "must be one of: a,
b") rather than pydantic's own text; a body that is not JSON says where it breaks.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

_MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"
_DATE = "must be a date: use YYYY-MM-DD"
_DATETIME = "must be a date and time: use YYYY-MM-DDThh:mm:ss+09:00"


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value:,}" if isinstance(value, int) and abs(value) >= 10_000 else str(value)


def _plural(n: Any, word: str) -> str:
    return f"{_number(n)} {word}{'' if n == 1 else 's'}"


def _choices(ctx: Mapping[str, Any]) -> str:
    found = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
    return "must be one of: " + ", ".join(found) if found else "is not an accepted value"


def _pattern(ctx: Mapping[str, Any], value: Any) -> str:
    pattern = str(ctx.get("pattern", ""))
    if pattern == _MONTH:
        return f"use YYYY-MM (a month 01-12), not {value!r}"
    if "@" in pattern:
        return "must be an e-mail address like keiri@example.co.jp"
    if "0-9" in pattern and "(" in pattern and "+" in pattern:
        return "must be a phone number like 03-1234-5678 or +81 3 1234 5678"
    return f"must match the pattern {pattern}"


_MESSAGES: dict[str, Callable[[Mapping[str, Any], Any], str]] = {
    "missing": lambda c, v: "is required",
    "extra_forbidden": lambda c, v: "is not a field here",
    "date_parsing": lambda c, v: f"{_DATE}, not {v!r}",
    "date_from_datetime_parsing": lambda c, v: f"{_DATE}, not {v!r}",
    "date_from_datetime_inexact": lambda c, v: f"{_DATE} (no time of day), not {v!r}",
    "date_type": lambda c, v: f"{_DATE}, not {v!r}",
    "datetime_parsing": lambda c, v: f"{_DATETIME}, not {v!r}",
    "datetime_from_date_parsing": lambda c, v: f"{_DATETIME}, not {v!r}",
    "datetime_type": lambda c, v: f"{_DATETIME}, not {v!r}",
    "int_parsing": lambda c, v: "must be an integer",
    "int_type": lambda c, v: "must be an integer",
    "int_from_float": lambda c, v: "must be an integer",
    "float_parsing": lambda c, v: "must be a number",
    "float_type": lambda c, v: "must be a number",
    "decimal_parsing": lambda c, v: 'must be a decimal number, e.g. "14.5"',
    "decimal_type": lambda c, v: 'must be a decimal number, e.g. "14.5"',
    "bool_parsing": lambda c, v: "must be true or false",
    "bool_type": lambda c, v: "must be true or false",
    "string_type": lambda c, v: "must be a string",
    "enum": lambda c, v: _choices(c),
    "literal_error": lambda c, v: _choices(c),
    "string_too_short": lambda c, v: (
        f"must be at least {_plural(c['min_length'], 'character')} long"
    ),
    "string_too_long": lambda c, v: f"must be at most {_plural(c['max_length'], 'character')} long",
    "too_short": lambda c, v: f"must have at least {_plural(c['min_length'], 'item')}",
    "too_long": lambda c, v: f"must have at most {_plural(c['max_length'], 'item')}",
    "greater_than_equal": lambda c, v: f"must be at least {_number(c['ge'])}",
    "greater_than": lambda c, v: f"must be greater than {_number(c['gt'])}",
    "less_than_equal": lambda c, v: f"must be at most {_number(c['le'])}",
    "less_than": lambda c, v: f"must be less than {_number(c['lt'])}",
    "string_pattern_mismatch": _pattern,
    "model_type": lambda c, v: "must be a JSON object",
    "model_attributes_type": lambda c, v: "must be a JSON object",
    "dict_type": lambda c, v: "must be a JSON object",
    "list_type": lambda c, v: "must be a list",
}


def plain_message(err: Mapping[str, Any]) -> str:
    """The error in plain words; pydantic's own text when there is no better one."""
    ctx: Mapping[str, Any] = err.get("ctx") or {}
    render = _MESSAGES.get(str(err.get("type")))
    if render is not None:
        try:
            return render(ctx, err.get("input"))
        except (KeyError, TypeError, ValueError):
            pass
    message = str(err.get("msg", "is not valid"))
    return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")


def json_position(err: Mapping[str, Any], body: Any) -> dict[str, Any]:
    """Where a body that is not JSON breaks, and what was expected there."""
    loc = err.get("loc", ())
    pos = loc[1] if len(loc) > 1 and isinstance(loc[1], int) else 0
    text = body if isinstance(body, str) else ""
    line = text.count("\n", 0, pos) + 1
    column = pos - text.rfind("\n", 0, pos)
    reason = str((err.get("ctx") or {}).get("error", "invalid JSON"))
    reason = re.sub(r"^Expecting\b", "expected", reason)
    return {
        "field": "body",
        "in": "body",
        "message": f"is not valid JSON: {reason} at line {line}, column {column} (character {pos})",
        "type": "json_invalid",
        "line": line,
        "column": column,
    }
