"""Issue 14 §1: the JP PINT 1.1.3 XML of every kind of document, checked for structure
(namespaces, ids, totals, tax categories) without the official validator, which
``.ci/run`` runs over the same documents (tests/einvoice/generate_samples.py)."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
from lxml import etree

from app.core.clock import FixedClock
from tests.einvoice.scenario import BUYER_CORPORATE_NUMBER, Sample, make_documents

Headers = dict[str, str]
NS = {
    "inv": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "cn": "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
KINDS = {
    "monthly",
    "first-with-one-time-items",
    "late-payment-charge",
    "final-with-early-termination",
    "cancellation",
    "credit-note",
}


def _text(root: etree._Element, path: str) -> str:
    found = root.xpath(f"string({path})", namespaces=NS)
    assert isinstance(found, str)
    return found


def _yen(root: etree._Element, path: str) -> int:
    return int(_text(root, path))


def _lines(root: etree._Element) -> list[etree._Element]:
    found = root.xpath("cac:InvoiceLine | cac:CreditNoteLine", namespaces=NS)
    assert isinstance(found, list)
    return [e for e in found if isinstance(e, etree._Element)]


@pytest.fixture
async def documents(
    client: httpx.AsyncClient, admin: Headers, clock: FixedClock
) -> dict[str, Sample]:
    return await make_documents(client, admin, clock)


def _check_common(root: etree._Element, record: dict[str, object]) -> None:
    assert _text(root, "cbc:CustomizationID") == "urn:peppol:pint:billing-1@jp-1"
    assert _text(root, "cbc:ProfileID") == "urn:peppol:bis:billing"
    assert _text(root, "cbc:ID") == record["number"]
    assert _text(root, "cbc:IssueDate") == record["issued_on"]
    assert _text(root, "cbc:DocumentCurrencyCode") == "JPY"
    # The seller is the issuer the invoice recorded; its endpoint the 法人番号 (0188).
    seller = "cac:AccountingSupplierParty/cac:Party"
    assert _text(root, f"{seller}/cbc:EndpointID/@schemeID") == "0188"
    assert _text(root, f"{seller}/cac:PartyTaxScheme/cbc:CompanyID").startswith("T")
    # Tax once per category, in whole yen (R-CHG-4), and the totals add up.
    subtotals = root.xpath("cac:TaxTotal/cac:TaxSubtotal", namespaces=NS)
    assert isinstance(subtotals, list)
    by_category = {
        _text(s, "cac:TaxCategory/cbc:ID"): (
            _yen(s, "cbc:TaxableAmount"),
            _yen(s, "cbc:TaxAmount"),
            _text(s, "cac:TaxCategory/cbc:Percent"),
        )
        for s in subtotals
        if isinstance(s, etree._Element)
    }
    assert len(by_category) == len(subtotals)
    assert by_category.get("S", (0, 0, "10"))[:2] == (record["taxable_subtotal"], record["tax"])
    assert by_category.get("S", (0, 0, "10"))[2] == "10"
    assert by_category.get("O", (0, 0, ""))[1:] == (0, "")  # 不課税: no tax, no rate
    assert by_category.get("O", (0, 0, ""))[0] == record["non_taxable_subtotal"]
    assert _yen(root, "cac:TaxTotal/cbc:TaxAmount") == record["tax"]
    net = _yen(root, "cac:LegalMonetaryTotal/cbc:LineExtensionAmount")
    assert net == sum(_yen(line, "cbc:LineExtensionAmount") for line in _lines(root))
    assert net == _yen(root, "cac:LegalMonetaryTotal/cbc:TaxExclusiveAmount")
    assert _yen(root, "cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount") == record["total"]
    assert _yen(root, "cac:LegalMonetaryTotal/cbc:PayableAmount") == record["total"]
    for line in _lines(root):
        category = _text(line, "cac:Item/cac:ClassifiedTaxCategory/cbc:ID")
        percent = _text(line, "cac:Item/cac:ClassifiedTaxCategory/cbc:Percent")
        assert (category, percent) in {("S", "10"), ("O", "")}
        quantity = Decimal(_text(line, "cbc:InvoicedQuantity | cbc:CreditedQuantity"))
        price = Decimal(_text(line, "cac:Price/cbc:PriceAmount"))
        assert price >= 0
        assert quantity * price == _yen(line, "cbc:LineExtensionAmount")


async def test_every_kind_is_a_jp_pint_document_issue_14_1(documents: dict[str, Sample]) -> None:
    assert set(documents) == KINDS
    for name, sample in documents.items():
        root = etree.fromstring(sample.xml)
        expected = "cn" if name == "credit-note" else "inv"
        assert etree.QName(root).namespace == NS[expected], name
        _check_common(root, sample.record)
        buyer = "cac:AccountingCustomerParty/cac:Party/cbc:EndpointID"
        assert _text(root, f"{buyer}/@schemeID") == "0188"
        if name == "credit-note":
            continue
        assert _text(root, "cbc:InvoiceTypeCode") == "380"
        assert _text(root, "cbc:DueDate") == sample.record["due_on"]
        categories = [
            (line["item"], "S" if line["taxable"] else "O") for line in sample.record["lines"]
        ]
        found = [_text(line, "cac:Item/cac:ClassifiedTaxCategory/cbc:ID") for line in _lines(root)]
        assert found == [category for _, category in categories], name
    first_buyer = etree.fromstring(documents["monthly"].xml)
    assert (
        _text(first_buyer, "cac:AccountingCustomerParty/cac:Party/cbc:EndpointID")
        == BUYER_CORPORATE_NUMBER
    )


async def test_out_of_scope_charges_are_category_o_r_chg_4(documents: dict[str, Sample]) -> None:
    """The early-termination and late-payment charges are 不課税 (O), the rest S at 10 %."""
    for name, item in (
        ("final-with-early-termination", "early-termination"),
        ("late-payment-charge", "late-payment"),
    ):
        record = documents[name].record
        assert [line["taxable"] for line in record["lines"] if line["item"] == item] == [False]
        root = etree.fromstring(documents[name].xml)
        found = {_text(line, "cac:Item/cac:ClassifiedTaxCategory/cbc:ID") for line in _lines(root)}
        assert found == {"S", "O"}


async def test_a_credit_note_names_the_invoice_it_corrects_r_inv_4(
    documents: dict[str, Sample], client: httpx.AsyncClient, admin: Headers
) -> None:
    note = documents["credit-note"]
    root = etree.fromstring(note.xml)
    assert _text(root, "cbc:CreditNoteTypeCode") == "381"
    invoice = documents["late-payment-charge"].record
    reference = "cac:BillingReference/cac:InvoiceDocumentReference"
    assert _text(root, f"{reference}/cbc:ID") == invoice["number"]
    assert _text(root, f"{reference}/cbc:IssueDate") == invoice["issued_on"]
    assert _text(root, "cbc:Note") == note.record["reason"]
    fetched = await client.get(f"/v1/credit-notes/{note.record['id']}", headers=admin)
    assert fetched.status_code == 200, fetched.text
    assert fetched.json() == note.record


async def test_the_document_is_the_same_bytes_on_every_request(
    documents: dict[str, Sample], client: httpx.AsyncClient, admin: Headers
) -> None:
    invoice = documents["monthly"].record
    again = await client.get(f"/v1/invoices/{invoice['id']}/jp-pint", headers=admin)
    assert again.content == documents["monthly"].xml
