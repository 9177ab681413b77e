"""Issue 14 §5 (電子帳簿保存法: 可視性): invoices and credit notes found again by issue date,
total and recipient, combinable with the other filters; the CSV index for a tax office."""

from __future__ import annotations

import csv
import hashlib
import io
from typing import Any

import httpx
import pytest

from app.auth.roles import Role
from app.core.clock import FixedClock
from app.einvoice import index
from tests.conftest import KeyFactory
from tests.einvoice.scenario import BUYER_CORPORATE_NUMBER, Sample, make_documents

Headers = dict[str, str]


@pytest.fixture
async def documents(
    client: httpx.AsyncClient, admin: Headers, clock: FixedClock
) -> dict[str, Sample]:
    return await make_documents(client, admin, clock)


async def _numbers(
    client: httpx.AsyncClient, headers: Headers, path: str, **params: Any
) -> set[str]:
    response = await client.get(path, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return {item["number"] for item in response.json()["items"]}


async def test_invoices_filter_by_issue_date_total_and_recipient(
    documents: dict[str, Sample], client: httpx.AsyncClient, admin: Headers
) -> None:
    monthly = documents["monthly"].record  # issued 2026-08-01
    late = documents["late-payment-charge"].record  # issued 2026-09-01
    numbers = await _numbers(
        client, admin, "/v1/invoices", issued_from="2026-08-01", issued_to="2026-09-01"
    )
    assert numbers == {monthly["number"], late["number"]}
    exact = await _numbers(
        client, admin, "/v1/invoices", total_min=late["total"], total_max=late["total"]
    )
    assert exact == {late["number"]}
    assert await _numbers(client, admin, "/v1/invoices", recipient="該当なし") == set()
    everyone = await _numbers(client, admin, "/v1/invoices", recipient="サンプル")
    assert len(everyone) == 5
    combined = await _numbers(
        client,
        admin,
        "/v1/invoices",
        contract_id=monthly["contract_id"],
        issued_from="2026-09-01",
        recipient="サンプル",
    )
    assert combined == {late["number"], documents["final-with-early-termination"].record["number"]}
    bad = await client.get("/v1/invoices", params={"total_min": -1}, headers=admin)
    assert bad.status_code == 422


async def test_credit_notes_list_and_filter(
    documents: dict[str, Sample], client: httpx.AsyncClient, admin: Headers, make_key: KeyFactory
) -> None:
    note = documents["credit-note"].record
    assert await _numbers(client, admin, "/v1/credit-notes") == {note["number"]}
    assert await _numbers(
        client, admin, "/v1/credit-notes", issued_from=note["issued_on"], recipient="サンプル"
    ) == {note["number"]}
    assert await _numbers(client, admin, "/v1/credit-notes", total_min=note["total"] + 1) == set()
    assert await _numbers(client, admin, "/v1/credit-notes", invoice_id="inv_other") == set()
    stranger = await make_key(Role.PORTAL, customer_id="cus_someone_else")
    assert await _numbers(client, stranger, "/v1/credit-notes") == set()


async def test_the_csv_index_lists_every_invoice_with_its_hashes(
    documents: dict[str, Sample],
    client: httpx.AsyncClient,
    admin: Headers,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(index, "CHUNK", 2)  # several chunks: the keyset walk loses no row
    response = await client.get(
        "/v1/invoices/export",
        params={"issued_from": "2026-05-01", "issued_to": "2026-12-31"},
        headers=admin,
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    invoices = {name: s for name, s in documents.items() if name != "credit-note"}
    expected = sorted((s.record["issued_on"], s.record["number"]) for s in invoices.values())
    assert [(r["issued_on"], r["number"]) for r in rows] == expected
    by_number = {r["number"]: r for r in rows}
    for sample in invoices.values():
        row, record = by_number[sample.record["number"]], sample.record
        assert row["kind"] == record["kind"]
        assert row["issued_on"] == record["issued_on"]
        assert row["recipient"] == record["recipient"]["name"]
        assert int(row["total"]) == record["total"]
        assert int(row["taxable_10_percent"]) == record["taxable_subtotal"]
        assert int(row["tax_10_percent"]) == record["tax"]
        assert int(row["out_of_scope"]) == record["non_taxable_subtotal"]
        assert row["jp_pint_sha256"] == hashlib.sha256(sample.xml).hexdigest()
        assert row["pdf_sha256"] == ""  # never rendered
    first = by_number[documents["monthly"].record["number"]]
    assert first["corporate_number"] == BUYER_CORPORATE_NUMBER
    narrow = await client.get(
        "/v1/invoices/export", params={"issued_from": "2026-10-01"}, headers=admin
    )
    assert len(list(csv.DictReader(io.StringIO(narrow.text)))) == 1
