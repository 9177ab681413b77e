"""The invoice as a PDF: a Japanese qualified invoice (適格請求書, R-INV-2).

Shows the issuer's name, registration number, address and telephone, the recipient (御中),
the contract it bills (its id, plan and licence IDs, as stored at issue), the customer's
own reference (its external_ref), the issue date, the service month, every
line (item, description, quantity with its unit, unit price, amount, 課税/不課税), the 10 % taxable
subtotal, the tax, the out-of-scope (不課税) subtotal, the total, the due date, the
transfer accounts (振込先) and page numbers. It is the document as issued (issue 14 §4):
rendered once and stored, so it states nothing that changes later (payments, voids and
credit notes are their own records).

Rendered with fpdf2; the Japanese TrueType font (IPAex Gothic, IPA Font License, shipped
in ``app/invoices/fonts`` with its licence) is embedded as a subset with its Unicode map,
so the text can be searched and extracted. Its path is ``settings.invoice_font_path``.

fpdf2 (with fontTools and Pillow, about 25 MiB resident) is imported by the functions that
draw, not by this module: the application imports this module at start (the e-invoice
routes, the documents' shared helpers), and a process that never renders a PDF — one
streaming the operation log's export, say (issue 13 §3: at most 100 MB) — should not
carry it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from app.core.errors import AppError
from app.invoices.models import Invoice
from app.invoices.receivables import InvoiceView
from app.pricing.catalogue import (
    CHARGE_KIND_NAMES,
    DISPLAY_NAMES,
    IDS_PER_UNIT,
    PER_10_ID_ITEMS,
)

if TYPE_CHECKING:
    from fpdf import FPDF

FONT = "ipaexg"


@dataclass(frozen=True, slots=True)
class PayDetails:
    """Issue 14 §3: what a customer needs to pay from the invoice, beyond its stored row:
    the issuer's address and contact and the transfer accounts (振込先, one line each). Read
    once, when the PDF is first rendered and stored (§4)."""

    issuer_address: str = ""
    issuer_telephone: str = ""
    accounts: tuple[str, ...] = ()


@cache
def _document_class() -> type[FPDF]:
    # Defined on first use: subclassing FPDF at module level would import fpdf2 with it.
    from fpdf import FPDF
    from fpdf.enums import Align

    class _Document(FPDF):
        def footer(self) -> None:
            # Issue 14 §3: page numbers, so a long invoice's pages stay in order, and
            # the document's number on each, so a page separated from the first is known.
            self.set_y(-12)
            self.set_font(FONT, size=8)
            self.cell(0, 6, f"{self.title}　{self.page_no()} / {{nb}}", align=Align.C)

    return _Document


_KIND_TITLES = {"monthly": "月額ご利用料金", "cancellation": "解約金", "other": "その他"}


class FontMissing(AppError):
    status, code, title = 503, "invoice_font_missing", "The invoice font is not installed"


def yen(amount: int) -> str:
    return f"{amount:,}"


def day(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _month(text: str) -> str:
    year, month = text.split("-")
    return f"{int(year)}年{int(month)}月分"


def item_name(item: str) -> str:
    """The item as printed: the tariff's name of a catalogue code or a charge kind."""
    return DISPLAY_NAMES.get(item) or CHARGE_KIND_NAMES.get(item) or item


def _quantity(item: str, quantity: int) -> str:
    """Issue 14 §3: a per-10-IDs item says its unit (R-CAT-2)."""
    if item in PER_10_ID_ITEMS:
        return f"{quantity:,}（{IDS_PER_UNIT}ID単位）"
    return f"{quantity:,}"


def rate_text(text: str) -> str:
    return format(Decimal(text).normalize(), "f")


def new_document(font_path: Path, title: str, author: str, created: datetime) -> FPDF:
    """An A4 document with the Japanese font and page numbers (503 without the font)."""
    if not font_path.is_file():
        raise FontMissing(
            f"The Japanese font {font_path} is missing; point SCMS_INVOICE_FONT_PATH at a "
            "TrueType font, or unset it to use the one shipped with scms.",
            font_path=str(font_path),
        )
    pdf = _document_class()(orientation="portrait", unit="mm", format="A4")
    pdf.set_title(title)
    pdf.set_author(author)
    pdf.set_creation_date(created)  # the same document, the same document date
    pdf.add_font(FONT, "", str(font_path))
    pdf.set_auto_page_break(auto=True, margin=15)
    return pdf


def left_text(pdf: FPDF, width: float, height: float, text: str) -> None:
    """A block of text wrapped flush left, then the next line: fpdf2's default justifies,
    which spreads a wrapped Japanese address or name into gaps at the spaces."""
    from fpdf.enums import Align, XPos, YPos  # fpdf2 only when drawing (module docstring)

    pdf.multi_cell(width, height, text, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _out_of_scope_items(view: InvoiceView) -> list[str]:
    """The items of this invoice's out-of-scope (不課税) lines, once each, in line order:
    which charges are out of scope is the price book's data (R-CHG-4), so the note names
    what the invoice bills, not a fixed list."""
    return list(dict.fromkeys(item_name(line.item) for line in view.lines if not line.taxable))


def plan_name(plan: str) -> str:
    """The plan as the contract facts print it: the tariff's name without its trailing
    プラン, which the label already says (an unknown code prints as stored)."""
    return item_name(plan).removesuffix(" プラン")


def contract_facts(invoice: Invoice) -> list[str]:
    """The contract the invoice bills (id, plan, licence IDs) and the customer's own
    reference, from the invoice's own row: as at issue, never today's contract (§4)."""
    facts = [f"ご契約番号 {invoice.contract_id}"]
    if invoice.plan:
        facts.append(f"プラン {plan_name(invoice.plan)}")
    if invoice.license_ids is not None:
        facts.append(f"ライセンスID数 {invoice.license_ids:,}ID")
    if invoice.recipient_reference:
        facts.append(f"お客様管理番号 {invoice.recipient_reference}")
    return facts


def issuer_block(
    pdf: FPDF, top: float, left_end: float, texts: list[str], details: PayDetails
) -> None:
    """The right-hand block (document facts, then the issuer and its contact), then below."""
    if details.issuer_address:
        texts.append(details.issuer_address)
    if details.issuer_telephone:
        texts.append(f"TEL {details.issuer_telephone}")
    pdf.set_xy(120, top)
    for text in texts:
        pdf.set_x(120)
        left_text(pdf, 80, 6, text)
    pdf.set_y(max(left_end, pdf.get_y()) + 6)


def totals_box(pdf: FPDF, rows: list[tuple[str, int]]) -> None:
    from fpdf.enums import Align, XPos, YPos  # fpdf2 only when drawing (module docstring)

    pdf.set_font(FONT, size=10)
    for label, amount in rows:
        pdf.set_x(110)
        pdf.cell(50, 7, label, border=1)
        pdf.cell(
            40, 7, f"{yen(amount)}円", border=1, align=Align.R, new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )
    pdf.ln(4)


def render(view: InvoiceView, font_path: Path, details: PayDetails | None = None) -> bytes:
    """The invoice's PDF. CPU-bound (about 0.2 s): call it off the event loop."""
    from fpdf.enums import Align, XPos, YPos  # fpdf2 only when drawing (module docstring)
    from fpdf.fonts import FontFace

    invoice = view.invoice
    details = details or PayDetails()
    rate = rate_text(invoice.tax_rate_percent)
    pdf = new_document(
        font_path, f"請求書 {invoice.number}", invoice.issuer_name, invoice.created_at
    )
    pdf.add_page()

    pdf.set_font(FONT, size=20)
    # The document as issued (issue 14 §4): a later void or credit note is its own record.
    pdf.cell(0, 12, "請求書", align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)

    pdf.set_font(FONT, size=10)
    top = pdf.get_y()
    pdf.set_font(FONT, size=13)
    left_text(pdf, 100, 7, f"{invoice.recipient_name} 御中")
    pdf.set_font(FONT, size=10)
    pdf.ln(2)
    pdf.cell(
        100, 6, f"ご請求金額 {yen(invoice.total)}円（税込）", new_x=XPos.LMARGIN, new_y=YPos.NEXT
    )
    pdf.cell(100, 6, f"お支払期限 {day(invoice.due_on)}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    for text in contract_facts(invoice):
        left_text(pdf, 100, 5, text)
    left_end = pdf.get_y()

    issuer = [
        f"請求書番号 {invoice.number}",
        f"発行日 {day(invoice.issued_on)}",
        f"対象期間 {_month(invoice.month)}（{_KIND_TITLES.get(invoice.kind, invoice.kind)}）",
        invoice.issuer_name,
        f"登録番号 {invoice.issuer_registration_number}",
    ]
    issuer_block(pdf, top, left_end, issuer, details)

    pdf.set_font(FONT, size=9)
    with pdf.table(
        # The quantity's column holds the largest with its unit, 100,000（10ID単位）.
        col_widths=(76, 36, 24, 28, 16),
        text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT", "CENTER"),
        line_height=5,
        first_row_as_headings=True,
        headings_style=FontFace(emphasis="", fill_color=(235, 235, 235)),
    ) as table:
        table.row(("品目・内容", "数量", "単価（円）", "金額（円）", "区分"))
        for line in view.lines:
            name = item_name(line.item)
            text = name if line.description == name else f"{name}\n{line.description}"
            table.row(
                (
                    text,
                    _quantity(line.item, line.quantity),
                    yen(line.unit_price),
                    yen(line.amount),
                    "課税" if line.taxable else "不課税",
                )
            )
    pdf.ln(4)

    totals_box(
        pdf,
        [
            (f"{rate}%対象 課税小計", invoice.taxable_subtotal),
            (f"消費税（{rate}%）", invoice.tax),
            ("不課税小計", invoice.non_taxable_subtotal),
            ("合計", invoice.total),
        ],
    )
    pdf.set_font(FONT, size=8)
    notes = [f"消費税は{rate}%対象の課税小計に対して一括で計算しています（1円未満切捨て）。"]
    if out_of_scope := _out_of_scope_items(view):
        notes.append(f"不課税（消費税の課税対象外）: {'、'.join(out_of_scope)}。")
    notes += [
        f"お支払期限 {day(invoice.due_on)} までにお支払いください（振込手数料はご負担ください）。",
    ]
    notes += [f"お振込先 {account}" for account in details.accounts]
    if details.accounts:
        notes.append(f"お振込の際は請求書番号 {invoice.number} をお書き添えください。")
    for text in notes:
        left_text(pdf, 0, 5, text)
    return bytes(pdf.output())
