"""A small, realistic data set for the schema fuzzer (issue 9 §5), created through the API.

Customers, contracts in several states (applied, accepted, rejected, withdrawn, active,
suspended, with a licence change, with a notice of termination), a price book version,
ad-hoc charges, a bill run with its invoices, a payment, a voided invoice, and an API key
of every role: the fuzzer then writes to real ids instead of meeting 404 everywhere.

Core steps must succeed (a seed without contracts tests nothing); the extra states are
best effort, so that a later business rule refusing one of them only thins the data.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from tests.price_books.factories import price_book_body
from tests.support.factories import EXAMPLE_B, activate, apply, create_customer

Headers = dict[str, str]
Ids = dict[str, list[str]]
Say = Callable[[str], None]

COMPANIES = ("株式会社サンプル", "有限会社テスト商事", "合同会社みなと物流", "株式会社北斗製作所")


async def _post(
    client: httpx.AsyncClient, headers: Headers, path: str, body: Any = None
) -> dict[str, Any]:
    response = await client.post(path, json=body, headers=headers)
    if response.status_code not in (200, 201, 202):
        raise RuntimeError(f"POST {path}: {response.status_code} {response.text}")
    result: dict[str, Any] = response.json()
    return result


async def _try(say: Say, what: str, step: Awaitable[Any]) -> Any:
    try:
        return await step
    except RuntimeError as exc:
        say(f"seed: skipped {what}: {exc}")
        return None


async def seed(client: httpx.AsyncClient, admin: Headers, say: Say = print) -> Ids:
    """Create the data set; the ids of what was made, by path-parameter name."""
    ids: Ids = {
        "customer_id": [],
        "contract_id": [],
        "invoice_id": [],
        "run_id": [],
        "key_id": [],
        "price_book_id": [],
    }
    for role in ("operator", "crm", "partner"):
        key = await _post(client, admin, "/v1/api-keys", {"name": f"fuzz {role}", "role": role})
        ids["key_id"].append(key["id"])
    customers = [await create_customer(client, admin, name=name) for name in COMPANIES]
    ids["customer_id"] += [c["id"] for c in customers]
    portal = await _post(
        client,
        admin,
        "/v1/api-keys",
        {"name": "fuzz portal", "role": "portal", "customer_id": customers[0]["id"]},
    )
    ids["key_id"].append(portal["id"])
    revoked = await _post(client, admin, "/v1/api-keys", {"name": "fuzz revoked", "role": "crm"})
    await client.delete(f"/v1/api-keys/{revoked['id']}", headers=admin)
    ids["key_id"].append(revoked["id"])

    book = await _try(
        say,
        "a price book version",
        _post(client, admin, "/v1/price-books", price_book_body("2027-04-01", basic=52_000)),
    )
    books = await client.get("/v1/price-books", headers=admin)
    ids["price_book_id"] += [b["id"] for b in books.json()["items"]]
    if book is not None and book["id"] not in ids["price_book_id"]:
        ids["price_book_id"].append(book["id"])

    # Contracts: two active ones (worked examples A and B) carry invoices and changes.
    a = await activate(client, admin, await apply(client, admin, customers[0]["id"]))
    b = await activate(client, admin, await apply(client, admin, customers[1]["id"], **EXAMPLE_B))
    applied = await apply(
        client,
        admin,
        customers[2]["id"],
        received_on="2026-10-01",
        planned_installation_on="2026-12-01",
    )
    accepted = await apply(
        client,
        admin,
        customers[3]["id"],
        received_on="2026-10-02",
        planned_installation_on="2026-12-01",
    )
    await _post(
        client, admin, f"/v1/contracts/{accepted['id']}/accept", {"out_of_order_reason": "fuzz"}
    )
    ids["contract_id"] += [a["id"], b["id"], applied["id"], accepted["id"]]

    rejected = await _try(
        say,
        "a rejected contract",
        apply(
            client,
            admin,
            customers[2]["id"],
            received_on="2026-10-03",
            planned_installation_on="2026-12-01",
        ),
    )
    if rejected is not None:
        await _try(
            say,
            "the rejection",
            _post(
                client,
                admin,
                f"/v1/contracts/{rejected['id']}/reject",
                {"reason": "payment_risk", "notice": "与信審査の結果、お受けできません。"},
            ),
        )
        ids["contract_id"].append(rejected["id"])
    withdrawn = await _try(
        say,
        "a withdrawn contract",
        apply(
            client,
            admin,
            customers[3]["id"],
            received_on="2026-10-04",
            planned_installation_on="2026-12-01",
        ),
    )
    if withdrawn is not None:
        await _try(
            say, "the withdrawal", _post(client, admin, f"/v1/contracts/{withdrawn['id']}/withdraw")
        )
        ids["contract_id"].append(withdrawn["id"])

    base_a, base_b = f"/v1/contracts/{a['id']}", f"/v1/contracts/{b['id']}"
    await _try(
        say,
        "an ad-hoc charge",
        _post(
            client,
            admin,
            f"{base_a}/charges",
            {"kind": "work", "description": "出張設定作業", "amount": 30_000, "month": "2026-11"},
        ),
    )
    await _try(
        say,
        "a licence change",
        _post(
            client,
            admin,
            f"{base_a}/license-changes",
            {"license_ids": 60, "effective_on": "2026-12-10", "notice_on": "2026-09-10"},
        ),
    )
    await _try(
        say,
        "a suspension",
        _post(
            client, admin, f"{base_b}/suspensions", {"starts_on": "2026-12-01", "reason": "other"}
        ),
    )

    for month in ("2026-09", "2026-10"):
        run = await _try(
            say, f"the {month} bill run", _post(client, admin, "/v1/billing-runs", {"month": month})
        )
        if run is not None:
            ids["run_id"].append(run["id"])
    invoices = await client.get("/v1/invoices", params={"limit": 200}, headers=admin)
    ids["invoice_id"] += [i["id"] for i in invoices.json()["items"]]
    if len(ids["invoice_id"]) >= 2:
        first, second = ids["invoice_id"][:2]
        await _try(
            say,
            "a payment",
            _post(
                client,
                admin,
                f"/v1/invoices/{first}/payments",
                {"paid_on": "2026-11-24", "amount": 1_000},  # the late runs issue today
            ),
        )
        await _try(
            say,
            "a void",
            _post(client, admin, f"/v1/invoices/{second}/void", {"reason": "宛名の誤り"}),
        )
    await _try(
        say,
        "a notice of termination",
        _post(
            client,
            admin,
            f"{base_b}/terminations",
            {
                "reason": "contractor_request",
                "effective_on": "2027-03-31",
                "notice_on": "2026-11-24",
            },
        ),
    )
    return ids
