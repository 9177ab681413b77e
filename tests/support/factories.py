"""Request bodies and API round trips that many tests share."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx

ADMINISTRATORS = [
    {"name": "山田 太郎", "email": "yamada@example.co.jp", "phone": "03-1234-5678"},
    {"name": "佐藤 花子", "email": "sato@example.co.jp", "phone": "+81 90 1234 5678"},
]
SIMPLE_MILESTONES = ("explanation", "initial_setup", "training", "trial", "manuals")
STANDARD_MILESTONES = (
    "explanation",
    "requirements",
    "design",
    "build",
    "training",
    "trial",
    "manuals",
)


def customer_body(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "株式会社サンプル",
        "billing_name": "株式会社サンプル 経理部",
        "email": "billing@example.co.jp",
        **overrides,
    }


async def create_customer(
    client: httpx.AsyncClient, headers: dict[str, str], **overrides: Any
) -> dict[str, Any]:
    response = await client.post("/v1/customers", json=customer_body(**overrides), headers=headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def application_body(customer_id: str, **overrides: Any) -> dict[str, Any]:
    """Worked example A by default: Foundation Essential, 50 IDs, simple onboarding."""
    return {
        "customer_id": customer_id,
        "plan": "foundation-essential",
        "license_ids": 50,
        "options": {"soc": False, "reserved_ip": False, "ad_integration": False},
        "onboarding_kind": "simple",
        "received_on": "2026-05-01",
        "planned_installation_on": "2026-06-01",
        "administrators": ADMINISTRATORS,
        **overrides,
    }


EXAMPLE_B = {
    "plan": "complete-advantage",
    "license_ids": 120,
    "options": {"soc": True, "reserved_ip": True, "ad_integration": True},
    "onboarding_kind": "standard",
}


async def apply(
    client: httpx.AsyncClient, headers: dict[str, str], customer_id: str, **overrides: Any
) -> dict[str, Any]:
    response = await client.post(
        "/v1/contracts", json=application_body(customer_id, **overrides), headers=headers
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def post_ok(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], body: Any = None
) -> dict[str, Any]:
    response = await client.post(path, json=body, headers=headers)
    assert response.status_code in (200, 201), response.text
    result: dict[str, Any] = response.json()
    return result


async def activate(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    contract: dict[str, Any],
    *,
    started_on: date = date(2026, 5, 20),
    completed_on: date = date(2026, 6, 15),
) -> dict[str, Any]:
    """Drive an accepted-or-applied contract through onboarding to ``active``."""
    base = f"/v1/contracts/{contract['id']}"
    if contract["status"] == "applied":
        await post_ok(client, f"{base}/accept", headers, {"out_of_order_reason": "test setup"})
    await post_ok(client, f"{base}/onboarding/start", headers, {"started_on": str(started_on)})
    keys = SIMPLE_MILESTONES if contract["onboarding"]["kind"] == "simple" else STANDARD_MILESTONES
    for key in keys:
        await post_ok(
            client, f"{base}/onboarding/milestones/{key}", headers, {"done_on": str(started_on)}
        )
    await post_ok(
        client,
        f"{base}/onboarding/inspections",
        headers,
        {
            "inspected_on": str(completed_on),
            "result": "accepted",
            "certificate_on": str(completed_on),
        },
    )
    return await post_ok(
        client, f"{base}/onboarding/complete", headers, {"completed_on": str(completed_on)}
    )
