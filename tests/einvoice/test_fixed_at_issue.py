"""Issue 14 §4 (電子帳簿保存法: 真実性): the PDF and XML of an issued document are rendered
once, stored with their SHA-256 and served byte-identical for ever; the ETag is the hash."""

from __future__ import annotations

import hashlib

import httpx
from fastapi import FastAPI

from app.core.clock import FixedClock
from tests.einvoice.test_credit_notes_api import credited
from tests.invoices.receivables_support import example_a_june, monthly_invoice
from tests.support.databases import BoundDatabase

Headers = dict[str, str]


async def test_documents_stay_byte_identical_whatever_changes_later(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin: Headers,
    database: BoundDatabase,
    clock: FixedClock,
) -> None:
    contract, invoice_id, note = await credited(client, admin, database, clock)
    paths = (
        f"/v1/invoices/{invoice_id}/jp-pint",
        f"/v1/invoices/{invoice_id}/pdf",
        f"/v1/credit-notes/{note['id']}/jp-pint",
    )
    first = {path: await client.get(path, headers=admin) for path in paths}
    for path, response in first.items():
        assert response.status_code == 200, path
        assert response.headers["etag"] == f'"{hashlib.sha256(response.content).hexdigest()}"'
    # Today's customer record and settings change: the issued documents do not.
    changed = await client.patch(
        f"/v1/customers/{contract['customer_id']}",
        json={"billing_name": "別会社", "corporate_number": "7000012050002"},
        headers=admin,
    )
    assert changed.status_code == 200, changed.text
    app.state.settings = app.state.settings.model_copy(
        update={"issuer_address": "大阪府大阪市", "issuer_telephone": "06-0000-0000"}
    )
    for path, response in first.items():
        again = await client.get(path, headers=admin)
        assert again.content == response.content, path
        assert again.headers["etag"] == response.headers["etag"], path


async def test_an_invoice_keeps_the_buyer_ids_it_was_issued_under_issue_14_4(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase, clock: FixedClock
) -> None:
    """The customer's 法人番号 changes before the XML is first asked for: the XML still
    states the one the invoice was issued under; a later invoice states the new one."""
    contract, june = await example_a_june(client, admin, database, clock)
    customer = f"/v1/customers/{contract['customer_id']}"
    first = await client.patch(customer, json={"corporate_number": "7123456789012"}, headers=admin)
    assert first.status_code == 200, first.text
    july = await monthly_invoice(database, clock, contract, "2026-07")  # issued under 7123…
    second = await client.patch(customer, json={"corporate_number": "7000012050002"}, headers=admin)
    assert second.status_code == 200, second.text
    june_xml = (await client.get(f"/v1/invoices/{june}/jp-pint", headers=admin)).text
    july_xml = (await client.get(f"/v1/invoices/{july}/jp-pint", headers=admin)).text
    assert "7000012050002" not in june_xml  # June was issued with no 法人番号 at all
    assert "<cbc:EndpointID" not in june_xml.split("AccountingCustomerParty")[1]
    assert '<cbc:EndpointID schemeID="0188">7123456789012</cbc:EndpointID>' in july_xml
    assert "7000012050002" not in july_xml
