"""docs/roles.md is the role matrix (issue 13 §2): every /v1 operation has its row, and
every cell is called with a key of that role — ✓ is never 403 `forbidden`, — always is."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from app.auth.roles import Role
from app.core.openapi import api_routes
from app.core.settings import Settings
from app.main import create_app
from tests.conftest import KeyFactory

ROLES = ("admin", "operator", "crm", "portal", "partner")
ROW = re.compile(r"^\| `(GET|POST|PATCH|PUT|DELETE) (/v1/[^`]*)` \|((?: [✓—] \|){5})$", re.M)
MATRIX = Path(__file__).resolve().parents[2] / "docs" / "roles.md"


def _cells() -> list[tuple[str, str, str, bool]]:
    cells = []
    for method, path, marks in ROW.findall(MATRIX.read_text(encoding="utf-8")):
        allowed = [m.strip() == "✓" for m in marks.strip(" |").split("|")]
        cells += [(method, path, role, ok) for role, ok in zip(ROLES, allowed, strict=True)]
    return cells


CELLS = _cells()


def test_every_v1_operation_has_one_row_in_the_matrix() -> None:
    app = create_app(Settings())
    operations = {
        (method, route.path)
        for route in api_routes(app)
        if route.path.startswith("/v1/")
        for method in route.methods or ()
    }
    documented = [(method, path) for method, path, role, _ in CELLS if role == "admin"]
    assert len(documented) == len(set(documented)), "an operation has two rows"
    assert set(documented) == operations


@pytest.mark.parametrize(
    ("method", "path", "role", "allowed"),
    CELLS,
    ids=[f"{m} {p} {r}" for m, p, r, _ in CELLS],
)
async def test_role_matrix_cell(
    client: httpx.AsyncClient,
    make_key: KeyFactory,
    method: str,
    path: str,
    role: str,
    allowed: bool,
) -> None:
    customer = "cus_matrix" if role == Role.PORTAL else None
    headers = await make_key(Role(role), customer_id=customer)
    concrete = re.sub(r"\{[^}]+\}", "x_1", path)
    body: dict[str, str] | None = None if method in ("GET", "DELETE") else {}
    response = await client.request(method, concrete, json=body, headers=headers)
    forbidden = response.status_code == 403 and response.json().get("code") == "forbidden"
    assert forbidden is not allowed, response.text
