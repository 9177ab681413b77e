"""Field types shared by request schemas."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

# Deliberately simple: one @, no spaces, a dot in the domain. Deliverability is the
# CRM's business; we only refuse what is certainly not an address.
Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
    Field(examples=["admin@example.co.jp"]),
]
Phone = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        min_length=6,
        max_length=40,
        pattern=r"^\+?[0-9][0-9\- ()]{4,38}[0-9]$",
    ),
    Field(examples=["03-1234-5678"]),
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
