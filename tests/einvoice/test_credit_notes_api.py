"""Issue 14 §1: ``GET /v1/credit-notes/{id}`` and the JP PINT routes, who may read them."""

from __future__ import annotations

from typing import Any

import httpx
from lxml import etree

from app.auth.roles import Role
from app.core.clock import FixedClock
from tests.conftest import KeyFactory
from tests.invoices.receivables_support import example_a_june
from tests.support.databases import BoundDatabase
from tests.support.factories import post_ok

Headers = dict[str, str]


async def credited(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase, clock: FixedClock
) -> tuple[dict[str, Any], str, dict[str, Any]]:
    contract, invoice_id = await example_a_june(client, admin, database, clock)
    note = await post_ok(
        client,
        f"/v1/invoices/{invoice_id}/credit-notes",
        admin,
        {"reason": "誤請求", "lines": [{"description": "返還", "amount": 1_000, "taxable": True}]},
    )
    return contract, invoice_id, note


async def test_a_credit_note_reads_as_json_r_inv_4(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase, clock: FixedClock
) -> None:
    _, invoice_id, note = await credited(client, admin, database, clock)
    response = await client.get(f"/v1/credit-notes/{note['id']}", headers=admin)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["invoice_id"], body["taxable_subtotal"], body["tax"], body["total"]) == (
        invoice_id,
        1_000,
        100,
        1_100,
    )


async def test_unknown_documents_are_404(client: httpx.AsyncClient, admin: Headers) -> None:
    for path, code in (
        ("/v1/credit-notes/crn_nope", "credit_note_not_found"),
        ("/v1/credit-notes/crn_nope/jp-pint", "credit_note_not_found"),
        ("/v1/invoices/inv_nope/jp-pint", "invoice_not_found"),
    ):
        response = await client.get(path, headers=admin)
        assert (response.status_code, response.json()["code"]) == (404, code), path


async def test_a_portal_key_reads_only_its_own_customers_documents_r_ptn_3(
    client: httpx.AsyncClient,
    admin: Headers,
    database: BoundDatabase,
    clock: FixedClock,
    make_key: KeyFactory,
) -> None:
    contract, invoice_id, note = await credited(client, admin, database, clock)
    own = await make_key(Role.PORTAL, customer_id=contract["customer_id"])
    other = await make_key(Role.PORTAL, customer_id="cus_someone_else")
    paths = (
        f"/v1/credit-notes/{note['id']}",
        f"/v1/credit-notes/{note['id']}/jp-pint",
        f"/v1/invoices/{invoice_id}/jp-pint",
    )
    for path in paths:
        assert (await client.get(path, headers=own)).status_code == 200, path
        assert (await client.get(path, headers=other)).status_code == 404, path


async def test_a_buyer_without_identifiers_still_renders_without_an_endpoint(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase, clock: FixedClock
) -> None:
    """docs/decisions.md "JP PINT buyer address": no Peppol id or 法人番号, no EndpointID."""
    _, invoice_id = await example_a_june(client, admin, database, clock)
    response = await client.get(f"/v1/invoices/{invoice_id}/jp-pint", headers=admin)
    assert response.status_code == 200, response.text
    root = etree.fromstring(response.content)
    cac = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
    cbc = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
    buyer = root.find(f"{{{cac}}}AccountingCustomerParty/{{{cac}}}Party")
    assert buyer is not None
    assert buyer.find(f"{{{cbc}}}EndpointID") is None
    assert buyer.findtext(f"{{{cac}}}PartyLegalEntity/{{{cbc}}}RegistrationName")
