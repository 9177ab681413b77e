"""Issue 14 §3: the credit note's PDF (返還請求書) names the invoice it corrects; like every
issued document it is rendered once and served byte-identical (§4)."""

from __future__ import annotations

import hashlib

import httpx

from app.core.clock import FixedClock
from tests.einvoice.test_credit_notes_api import credited
from tests.invoices.test_invoice_pdf import embedded_fonts, text_of
from tests.support.databases import BoundDatabase

Headers = dict[str, str]


async def test_a_credit_note_pdf_names_the_invoice_it_corrects_r_inv_4(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase, clock: FixedClock
) -> None:
    _, invoice_id, note = await credited(client, admin, database, clock)
    invoice = (await client.get(f"/v1/invoices/{invoice_id}", headers=admin)).json()
    response = await client.get(f"/v1/credit-notes/{note['id']}/pdf", headers=admin)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["etag"] == f'"{hashlib.sha256(response.content).hexdigest()}"'
    assert embedded_fonts(response.content)
    text = text_of(response.content)
    for expected in (
        "返還請求書",
        note["number"],
        f"対象の請求書 {invoice['number']}",
        "株式会社サンプル 経理部 御中",
        "登録番号 T1234567890123",
        "返還",
        "1,000",
        "消費税（10%）",
        "100円",
        "1,100円",
        "返還理由: 誤請求",
    ):
        assert expected in text, f"{expected!r} not in the PDF text:\n{text}"
    again = await client.get(f"/v1/credit-notes/{note['id']}/pdf", headers=admin)
    assert again.content == response.content
