"""Japanese business identifiers (issue 14 §2): 法人番号 and the qualified-invoice number.

A corporate number (法人番号) is 13 digits whose first is a check digit over the other
12 (the National Tax Agency's rule): ``9 − (Σ Pn × Qn mod 9)`` for n = 1 … 12, Pn the n-th
digit counted from the least significant of the 12-digit base number, Qn 1 when n is odd
and 2 when it is even. A registered issuer's number (登録番号) is ``T`` and 13 digits with
the same check digit (a corporation's is ``T`` + its corporate number).
"""

from __future__ import annotations

import re

_CORPORATE = re.compile(r"^[0-9]{13}$")
_REGISTRATION = re.compile(r"^T[0-9]{13}$")
PLACEHOLDER_REGISTRATION_NUMBER = "T0000000000000"


def check_digit(base: str) -> int:
    """The check digit of a 12-digit base number."""
    total = sum(int(d) * (1 if n % 2 else 2) for n, d in enumerate(reversed(base), start=1))
    return 9 - total % 9


def is_corporate_number(value: str) -> bool:
    return bool(_CORPORATE.match(value)) and int(value[0]) == check_digit(value[1:])


def is_registration_number(value: str) -> bool:
    return bool(_REGISTRATION.match(value)) and is_corporate_number(value[1:])
