"""JP PINT 1.1.3 documents (issue 14 §1): a UBL 2.1 Invoice or CreditNote, built with lxml.

Pure: the document is made from a :class:`Document` (the stored invoice or credit note and
the parties as recorded), never from a clock or a database, so the same stored data always
gives the same bytes. Tax is stated once per category for the whole document (R-CHG-4):
``S`` at the stored rate with the stored tax, ``O`` (不課税) with none.

lxml is imported where a document is built, not with this module: the app imports it at
start, and a process that never builds an e-invoice need not carry lxml's few MiB (issue
13 §3 bounds a whole exporting process at 100 MB).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from app.einvoice.categories import TaxCategory

if TYPE_CHECKING:
    from lxml import etree

CUSTOMIZATION_ID = "urn:peppol:pint:billing-1@jp-1"
PROFILE_ID = "urn:peppol:bis:billing"
CURRENCY = "JPY"
INVOICE_TYPE_CODE = "380"  # commercial invoice
CREDIT_NOTE_TYPE_CODE = "381"  # credit note (返還インボイス)
PAYMENT_MEANS_CREDIT_TRANSFER = "30"  # UNCL 4461
UNIT_CODE = "H87"  # piece (UN/ECE Recommendation 20)
CORPORATE_NUMBER_SCHEME = "0188"  # 法人番号 (EAS / ICD)
REGISTRATION_NUMBER_SCHEME = "0221"  # 適格請求書発行事業者登録番号 (EAS)

UBL_INVOICE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
UBL_CREDIT_NOTE = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"

Kind = Literal["invoice", "credit_note"]


@dataclass(frozen=True, slots=True)
class Party:
    """A seller or buyer as the document states it."""

    name: str
    endpoint: tuple[str, str] | None  # (EAS scheme, identifier); None: none recorded
    registration_number: str | None = None  # T + 13 digits (PartyTaxScheme)
    corporate_number: str | None = None  # 13 digits (PartyLegalEntity, scheme 0188)
    address: str | None = None
    telephone: str | None = None


@dataclass(frozen=True, slots=True)
class PaymentAccount:
    """A transfer account (振込先): ``bank:branch:type:number`` and the holder's name."""

    identifier: str
    holder: str


@dataclass(frozen=True, slots=True)
class Line:
    name: str
    description: str
    quantity: int
    unit_price: int
    amount: int
    category: TaxCategory


@dataclass(frozen=True, slots=True)
class Reference:
    """The invoice a credit note corrects."""

    number: str
    issued_on: date


@dataclass(frozen=True, slots=True)
class Document:
    kind: Kind
    number: str
    issued_on: date
    due_on: date | None
    period: tuple[date, date] | None
    seller: Party
    buyer: Party
    lines: Sequence[Line]
    tax_rate_percent: Decimal
    taxable_subtotal: int
    tax: int
    non_taxable_subtotal: int
    total: int
    contract_id: str | None = None
    note: str | None = None
    corrects: Reference | None = None
    accounts: Sequence[PaymentAccount] = ()


class _Builder:
    def __init__(self, root_ns: str, root: str) -> None:
        # The document's own namespace is the default one, as in the official examples
        # (lxml-stubs type nsmap keys as str only; lxml takes None for the default).
        from lxml import etree  # on first use (the module's docstring)

        nsmap = {None: root_ns, "cac": CAC, "cbc": CBC}
        self.root = etree.Element(f"{{{root_ns}}}{root}", nsmap=nsmap)  # type: ignore[arg-type]

    @staticmethod
    def cbc(parent: etree._Element, name: str, text: str, **attrs: str) -> etree._Element:
        from lxml import etree

        element = etree.SubElement(parent, f"{{{CBC}}}{name}", attrs)
        element.text = text
        return element

    @staticmethod
    def cac(parent: etree._Element, name: str) -> etree._Element:
        from lxml import etree

        return etree.SubElement(parent, f"{{{CAC}}}{name}")

    def amount(self, parent: etree._Element, name: str, yen: int) -> None:
        self.cbc(parent, name, str(yen), currencyID=CURRENCY)


def _percent(rate: Decimal) -> str:
    return format(rate.normalize(), "f")


def _tax_scheme(b: _Builder, parent: etree._Element) -> None:
    b.cbc(b.cac(parent, "TaxScheme"), "ID", "VAT")


def _category(
    b: _Builder, parent: etree._Element, name: str, category: TaxCategory, rate: Decimal
) -> None:
    element = b.cac(parent, name)
    b.cbc(element, "ID", category.value)
    if category is not TaxCategory.OUTSIDE_SCOPE:  # 不課税 has no rate (aligned-ibrp-048)
        b.cbc(element, "Percent", _percent(rate))
    _tax_scheme(b, element)


def _party(b: _Builder, parent: etree._Element, role: str, party: Party) -> None:
    element = b.cac(b.cac(parent, role), "Party")
    if party.endpoint is not None:
        scheme, identifier = party.endpoint
        b.cbc(element, "EndpointID", identifier, schemeID=scheme)
    address = b.cac(element, "PostalAddress")
    if party.address:
        b.cbc(address, "StreetName", party.address)
    b.cbc(b.cac(address, "Country"), "IdentificationCode", "JP")
    if party.registration_number is not None:
        tax_scheme = b.cac(element, "PartyTaxScheme")
        b.cbc(tax_scheme, "CompanyID", party.registration_number)
        _tax_scheme(b, tax_scheme)
    legal = b.cac(element, "PartyLegalEntity")
    b.cbc(legal, "RegistrationName", party.name)
    if party.corporate_number is not None:
        b.cbc(legal, "CompanyID", party.corporate_number, schemeID=CORPORATE_NUMBER_SCHEME)
    if party.telephone:
        b.cbc(b.cac(element, "Contact"), "Telephone", party.telephone)


def _subtotals(doc: Document) -> list[tuple[TaxCategory, int, int]]:
    """(category, taxable amount, tax) for every category the lines use, S first."""
    used = {line.category for line in doc.lines}
    rows = []
    if TaxCategory.STANDARD in used or doc.taxable_subtotal:
        rows.append((TaxCategory.STANDARD, doc.taxable_subtotal, doc.tax))
    if TaxCategory.OUTSIDE_SCOPE in used or doc.non_taxable_subtotal:
        rows.append((TaxCategory.OUTSIDE_SCOPE, doc.non_taxable_subtotal, 0))
    return rows


def _line(b: _Builder, doc: Document, position: int, line: Line) -> None:
    is_invoice = doc.kind == "invoice"
    element = b.cac(b.root, "InvoiceLine" if is_invoice else "CreditNoteLine")
    b.cbc(element, "ID", str(position))
    # The price is never negative (ibr-027): a negative line is a negative quantity.
    quantity, price = line.quantity, line.unit_price
    if price < 0:
        quantity, price = -quantity, -price
    b.cbc(
        element,
        "InvoicedQuantity" if is_invoice else "CreditedQuantity",
        str(quantity),
        unitCode=UNIT_CODE,
    )
    b.amount(element, "LineExtensionAmount", line.amount)
    item = b.cac(element, "Item")
    if line.description and line.description != line.name:
        b.cbc(item, "Description", line.description)
    b.cbc(item, "Name", line.name)
    _category(b, item, "ClassifiedTaxCategory", line.category, doc.tax_rate_percent)
    price_element = b.cac(element, "Price")
    b.amount(price_element, "PriceAmount", price)
    b.cbc(price_element, "BaseQuantity", "1", unitCode=UNIT_CODE)


def build(doc: Document) -> bytes:
    """The document's XML (UTF-8, with its declaration), deterministic for the same data."""
    from lxml import etree

    is_invoice = doc.kind == "invoice"
    b = _Builder(UBL_INVOICE, "Invoice") if is_invoice else _Builder(UBL_CREDIT_NOTE, "CreditNote")
    root = b.root
    b.cbc(root, "CustomizationID", CUSTOMIZATION_ID)
    b.cbc(root, "ProfileID", PROFILE_ID)
    b.cbc(root, "ID", doc.number)
    b.cbc(root, "IssueDate", doc.issued_on.isoformat())
    if is_invoice:
        if doc.due_on is not None:
            b.cbc(root, "DueDate", doc.due_on.isoformat())
        b.cbc(root, "InvoiceTypeCode", INVOICE_TYPE_CODE)
    else:
        b.cbc(root, "CreditNoteTypeCode", CREDIT_NOTE_TYPE_CODE)
    if doc.note:
        b.cbc(root, "Note", doc.note)
    b.cbc(root, "DocumentCurrencyCode", CURRENCY)
    if doc.period is not None:
        period = b.cac(root, "InvoicePeriod")
        b.cbc(period, "StartDate", doc.period[0].isoformat())
        b.cbc(period, "EndDate", doc.period[1].isoformat())
    if doc.corrects is not None:
        reference = b.cac(b.cac(root, "BillingReference"), "InvoiceDocumentReference")
        b.cbc(reference, "ID", doc.corrects.number)
        b.cbc(reference, "IssueDate", doc.corrects.issued_on.isoformat())
    if doc.contract_id is not None:
        b.cbc(b.cac(root, "ContractDocumentReference"), "ID", doc.contract_id)
    _party(b, root, "AccountingSupplierParty", doc.seller)
    _party(b, root, "AccountingCustomerParty", doc.buyer)
    for account in doc.accounts:
        means = b.cac(root, "PaymentMeans")
        b.cbc(means, "PaymentMeansCode", PAYMENT_MEANS_CREDIT_TRANSFER)
        b.cbc(means, "PaymentID", doc.number)  # the remittance reference: the number
        financial = b.cac(means, "PayeeFinancialAccount")
        b.cbc(financial, "ID", account.identifier)
        b.cbc(financial, "Name", account.holder)

    tax_total = b.cac(root, "TaxTotal")
    b.amount(tax_total, "TaxAmount", doc.tax)
    for category, taxable, tax in _subtotals(doc):
        subtotal = b.cac(tax_total, "TaxSubtotal")
        b.amount(subtotal, "TaxableAmount", taxable)
        b.amount(subtotal, "TaxAmount", tax)
        _category(b, subtotal, "TaxCategory", category, doc.tax_rate_percent)

    net = doc.taxable_subtotal + doc.non_taxable_subtotal
    totals = b.cac(root, "LegalMonetaryTotal")
    b.amount(totals, "LineExtensionAmount", net)
    b.amount(totals, "TaxExclusiveAmount", net)
    b.amount(totals, "TaxInclusiveAmount", doc.total)
    b.amount(totals, "PayableAmount", doc.total)
    for position, line in enumerate(doc.lines, start=1):
        _line(b, doc, position, line)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
