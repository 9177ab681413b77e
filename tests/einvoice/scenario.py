"""Every kind of document we issue, made through the API on a moving clock (issue 14 §1).

A monthly invoice, a first invoice with one-time items, a final invoice with an
early-termination charge, one with a late-payment charge, a cancellation invoice and a
credit note: the JP PINT XML of each, by name. Used by the structure test and by
``generate_samples.py`` (whose output ``.ci/run`` hands to the official validator).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx

from app.core.clock import FixedClock
from app.core.settings import BankAccount
from tests.support.factories import EXAMPLE_B, activate, apply, create_customer, post_ok
from tests.support.worker import work_off

Headers = dict[str, str]
# Valid 法人番号 (check digit first) of made-up companies.
BUYER_CORPORATE_NUMBER = "7123456789012"
BUYER_REGISTRATION_NUMBER = "T9234567890123"
ISSUER_ADDRESS = "東京都千代田区神田練塀町3 富士ソフトビル"
BANK_ACCOUNT = BankAccount(
    bank_code="0001",
    bank_name="みずほ銀行",
    branch_code="110",
    branch_name="丸の内支店",
    account_number="1234567",
    account_holder="ｱﾙﾃﾘｱ.ﾈﾂﾄﾜ-ｸｽ(ｶ",
)


def _on(clock: FixedClock, day: date) -> None:
    clock.instant = FixedClock.on(day).instant


async def _run(client: httpx.AsyncClient, headers: Headers, month: str) -> None:
    started = await client.post("/v1/billing-runs", json={"month": month}, headers=headers)
    assert started.status_code == 202, started.text
    await work_off(client)
    run = await client.get(f"/v1/billing-runs/{started.json()['id']}", headers=headers)
    assert run.json()["status"] == "finished", run.text


async def _invoice(
    client: httpx.AsyncClient, headers: Headers, contract_id: str, month: str
) -> dict[str, Any]:
    response = await client.get(
        "/v1/invoices", params={"contract_id": contract_id, "month": month}, headers=headers
    )
    items: list[dict[str, Any]] = response.json()["items"]
    assert len(items) == 1, response.text
    return items[0]


async def _xml(client: httpx.AsyncClient, headers: Headers, path: str) -> bytes:
    response = await client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    return response.content


@dataclass(frozen=True)
class Sample:
    record: dict[str, Any]  # the invoice or credit note as the JSON API reads it
    xml: bytes


async def make_documents(
    client: httpx.AsyncClient, headers: Headers, clock: FixedClock
) -> dict[str, Sample]:
    """Every kind of document, keyed by kind (also the file name's stem)."""
    _on(clock, date(2026, 5, 1))
    customer = await create_customer(
        client,
        headers,
        corporate_number=BUYER_CORPORATE_NUMBER,
        registration_number=BUYER_REGISTRATION_NUMBER,
    )
    contract = await apply(client, headers, customer["id"])
    _on(clock, date(2026, 6, 15))
    await activate(client, headers, contract)
    _on(clock, date(2026, 7, 1))
    await _run(client, headers, "2026-06")  # the first invoice: onboarding fees + June
    first = await _invoice(client, headers, contract["id"], "2026-06")
    _on(clock, date(2026, 8, 1))
    await _run(client, headers, "2026-07")
    monthly = await _invoice(client, headers, contract["id"], "2026-07")
    _on(clock, date(2026, 8, 20))  # June's invoice was due 2026-07-31: paid late
    await post_ok(
        client,
        f"/v1/invoices/{first['id']}/payments",
        headers,
        {"paid_on": "2026-08-20", "amount": first["total"]},
    )
    await post_ok(
        client,
        f"/v1/invoices/{monthly['id']}/payments",
        headers,
        {"paid_on": "2026-08-20", "amount": monthly["total"]},
    )
    _on(clock, date(2026, 9, 1))
    await _run(client, headers, "2026-08")  # carries June's late-payment charge
    late = await _invoice(client, headers, contract["id"], "2026-08")
    note = await post_ok(
        client,
        f"/v1/invoices/{late['id']}/credit-notes",
        headers,
        {
            "reason": "8月分ライセンス数の誤りによる返還",
            "lines": [{"description": "ライセンス料金の返還", "amount": 8_600, "taxable": True}],
        },
    )
    _on(clock, date(2026, 9, 5))
    await post_ok(
        client,
        f"/v1/contracts/{contract['id']}/terminations",
        headers,
        {"reason": "payment_default", "effective_on": "2026-09-30"},
    )
    _on(clock, date(2026, 10, 1))
    await _run(client, headers, "2026-09")  # the final invoice, with the early-termination
    final = await _invoice(client, headers, contract["id"], "2026-09")

    _on(clock, date(2026, 5, 10))
    other = await create_customer(client, headers, corporate_number="9234567890123")
    accepted = await apply(client, headers, other["id"], **EXAMPLE_B)
    await post_ok(
        client,
        f"/v1/contracts/{accepted['id']}/accept",
        headers,
        {"out_of_order_reason": "sample"},
    )
    cancelled = await post_ok(
        client,
        f"/v1/contracts/{accepted['id']}/cancellation",
        headers,
        {
            "cancelled_on": "2026-05-10",
            "actual_costs": [{"description": "調達済みソフトウェア", "amount": 200_000}],
        },
    )
    invoices = {
        "monthly": monthly,
        "first-with-one-time-items": first,
        "late-payment-charge": late,
        "final-with-early-termination": final,
        "cancellation": cancelled["invoice"],
    }
    documents = {
        name: Sample(invoice, await _xml(client, headers, f"/v1/invoices/{invoice['id']}/jp-pint"))
        for name, invoice in invoices.items()
    }
    documents["credit-note"] = Sample(
        note, await _xml(client, headers, f"/v1/credit-notes/{note['id']}/jp-pint")
    )
    return documents
