"""The credit note as a PDF: 適格返還請求書 (返還インボイス, R-INV-4; issue 14 §3).

Names the invoice it corrects (number and issue date), the issuer (name, registration
number, address, telephone), the recipient (御中), the issue date, the reason, every
credited line (課税 / 不課税), the refund before tax at 10 %, its tax, the out-of-scope
refund and the total. Made from the note's and its invoice's stored data and the issuer's
settings; rendered once and stored like the invoice's PDF (issue 14 §4).
"""

from __future__ import annotations

from pathlib import Path

from app.invoices.models import CreditNote, Invoice
from app.invoices.pdf import (
    FONT,
    PayDetails,
    contract_facts,
    day,
    issuer_block,
    left_text,
    new_document,
    rate_text,
    totals_box,
    yen,
)


def render(note: CreditNote, invoice: Invoice, font_path: Path, details: PayDetails) -> bytes:
    """The credit note's PDF. CPU-bound: call it off the event loop."""
    # fpdf2 (about 25 MiB resident) only when drawing: the app imports this module at
    # start, and most processes never render a credit note (see app/invoices/pdf.py).
    from fpdf.enums import Align, XPos, YPos
    from fpdf.fonts import FontFace

    rate = rate_text(invoice.tax_rate_percent)
    pdf = new_document(font_path, f"返還請求書 {note.number}", invoice.issuer_name, note.created_at)
    pdf.add_page()
    pdf.set_font(FONT, size=18)
    pdf.cell(
        0, 12, "返還請求書（適格返還請求書）", align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT
    )
    pdf.ln(2)
    top = pdf.get_y()
    pdf.set_font(FONT, size=13)
    left_text(pdf, 100, 7, f"{invoice.recipient_name} 御中")
    pdf.set_font(FONT, size=10)
    pdf.ln(2)
    pdf.cell(100, 6, f"返還金額 {yen(note.total)}円（税込）", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    left_text(pdf, 100, 6, f"対象の請求書 {invoice.number}（{day(invoice.issued_on)}発行）")
    for text in contract_facts(invoice):
        left_text(pdf, 100, 5, text)
    left_end = pdf.get_y()
    issuer = [
        f"返還請求書番号 {note.number}",
        f"発行日 {day(note.issued_on)}",
        invoice.issuer_name,
        f"登録番号 {invoice.issuer_registration_number}",
    ]
    issuer_block(pdf, top, left_end, issuer, details)

    pdf.set_font(FONT, size=9)
    with pdf.table(
        col_widths=(120, 40, 20),
        text_align=("LEFT", "RIGHT", "CENTER"),
        line_height=5,
        first_row_as_headings=True,
        headings_style=FontFace(emphasis="", fill_color=(235, 235, 235)),
    ) as table:
        table.row(("内容", "返還額（円、税抜）", "区分"))
        for row in note.lines:
            table.row(
                (
                    str(row["description"]),
                    yen(int(row["amount"])),
                    "課税" if row["taxable"] else "不課税",
                )
            )
    pdf.ln(4)
    totals_box(
        pdf,
        [
            (f"{rate}%対象 返還額", note.taxable_subtotal),
            (f"消費税（{rate}%）", note.tax),
            ("不課税 返還額", note.non_taxable_subtotal),
            ("合計", note.total),
        ],
    )
    pdf.set_font(FONT, size=8)
    for text in (
        f"返還理由: {note.reason}",
        f"消費税は{rate}%対象の返還額に対して一括で計算しています（1円未満切捨て）。",
    ):
        left_text(pdf, 0, 5, text)
    return bytes(pdf.output())
