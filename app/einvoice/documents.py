"""From stored invoices and credit notes to JP PINT documents (issue 14 §1, §2).

The seller is what the invoice recorded at issue (its name and registration number) and
the issuer's contact as it was at issue (address, telephone, 法人番号, transfer accounts:
app/invoices/issuer.py); without a
corporate number set, a corporation's registration number is ``T`` + its 法人番号, so the
seller's Peppol endpoint (scheme 0188) and legal id are those 13 digits. The buyer is the
recipient name the invoice recorded and the customer's identifiers (docs/decisions.md
"JP PINT buyer address"), as they were at issue. The document is rendered once, at the
first request, and stored (app/einvoice/archive.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from app.einvoice.categories import category_of
from app.einvoice.jp_pint import (
    CORPORATE_NUMBER_SCHEME,
    Document,
    Line,
    Party,
    PaymentAccount,
    Reference,
)
from app.invoices.issuer import IssuerContact
from app.invoices.models import CreditNote, Invoice, InvoiceLine
from app.invoices.pdf import PayDetails
from app.pricing.calendar import Month
from app.pricing.catalogue import CHARGE_KIND_NAMES, DISPLAY_NAMES


@dataclass(frozen=True, slots=True)
class IssuerDetails:
    """What the document states of the issuer beyond the invoice's stored name and number."""

    address: str = ""
    telephone: str = ""
    corporate_number: str | None = None
    accounts: tuple[PaymentAccount, ...] = ()


_ACCOUNT_TYPES = {"普通": "1", "当座": "2"}


def issuer_details(contact: IssuerContact) -> IssuerDetails:
    """The issuer's contact as it was at issue (app/invoices/issuer.py), for the XML."""
    return IssuerDetails(
        address=contact.address,
        telephone=contact.telephone,
        corporate_number=contact.corporate_number,
        accounts=tuple(
            PaymentAccount(
                f"{a.bank_code}:{a.branch_code}:{_ACCOUNT_TYPES[a.account_type]}:{a.account_number}",
                a.account_holder,
            )
            for a in contact.accounts
        ),
    )


@dataclass(frozen=True, slots=True)
class BuyerIds:
    corporate_number: str | None = None
    registration_number: str | None = None
    peppol_id: str | None = None


def buyer_endpoint(ids: BuyerIds) -> tuple[str, str] | None:
    """The Peppol id when recorded, else the 法人番号 (0188), else none."""
    if ids.peppol_id:
        scheme, _, identifier = ids.peppol_id.partition(":")
        return scheme, identifier
    if ids.corporate_number:
        return CORPORATE_NUMBER_SCHEME, ids.corporate_number
    return None


def _seller(invoice: Invoice, issuer: IssuerDetails) -> Party:
    digits = issuer.corporate_number or invoice.issuer_registration_number[1:]
    return Party(
        name=invoice.issuer_name,
        endpoint=(CORPORATE_NUMBER_SCHEME, digits),
        registration_number=invoice.issuer_registration_number,
        corporate_number=digits,
        address=issuer.address or None,
        telephone=issuer.telephone or None,
    )


def _buyer(invoice: Invoice, ids: BuyerIds) -> Party:
    return Party(
        name=invoice.recipient_name,
        endpoint=buyer_endpoint(ids),
        registration_number=ids.registration_number,
        corporate_number=ids.corporate_number,
    )


def item_name(item: str) -> str:
    return DISPLAY_NAMES.get(item) or CHARGE_KIND_NAMES.get(item) or item


def invoice_document(
    invoice: Invoice, lines: Iterable[InvoiceLine], ids: BuyerIds, issuer: IssuerDetails
) -> Document:
    month = Month.parse(invoice.month)
    return Document(
        kind="invoice",
        number=invoice.number,
        issued_on=invoice.issued_on,
        due_on=invoice.due_on,
        period=(month.first_day, month.last_day),
        seller=_seller(invoice, issuer),
        buyer=_buyer(invoice, ids),
        accounts=issuer.accounts,
        lines=[
            Line(
                name=item_name(line.item),
                description=line.description,
                quantity=line.quantity,
                unit_price=line.unit_price,
                amount=line.amount,
                category=category_of(line.taxable),
            )
            for line in sorted(lines, key=lambda line: line.position)
        ],
        tax_rate_percent=Decimal(invoice.tax_rate_percent),
        taxable_subtotal=invoice.taxable_subtotal,
        tax=invoice.tax,
        non_taxable_subtotal=invoice.non_taxable_subtotal,
        total=invoice.total,
        contract_id=invoice.contract_id,
    )


def credit_note_document(
    note: CreditNote, invoice: Invoice, ids: BuyerIds, issuer: IssuerDetails
) -> Document:
    """A 返還インボイス naming the invoice it corrects (BillingReference), for its period."""
    month = Month.parse(invoice.month)
    return Document(
        kind="credit_note",
        number=note.number,
        issued_on=note.issued_on,
        due_on=None,
        period=(month.first_day, month.last_day),
        seller=_seller(invoice, issuer),
        buyer=_buyer(invoice, ids),
        lines=[
            Line(
                name=str(row["description"]),
                description=str(row["description"]),
                quantity=1,
                unit_price=int(row["amount"]),
                amount=int(row["amount"]),
                category=category_of(bool(row["taxable"])),
            )
            for row in note.lines
        ],
        tax_rate_percent=Decimal(invoice.tax_rate_percent),
        taxable_subtotal=note.taxable_subtotal,
        tax=note.tax,
        non_taxable_subtotal=note.non_taxable_subtotal,
        total=note.total,
        contract_id=invoice.contract_id,
        note=note.reason,
        corrects=Reference(invoice.number, invoice.issued_on),
    )


def pay_details(contact: IssuerContact) -> PayDetails:
    """Issue 14 §3: the issuer's contact and 振込先 for the PDF, as they were at issue."""
    return PayDetails(
        issuer_address=contact.address,
        issuer_telephone=contact.telephone,
        accounts=tuple(
            f"{a.bank_name}（{a.bank_code}） {a.branch_name}（{a.branch_code}） "
            f"{a.account_type} {a.account_number} {a.account_holder}"
            for a in contact.accounts
        ),
    )
