"""GET /v1/invoices/{id}/pdf: a Japanese qualified invoice (適格請求書, R-INV-2) whose text
can be extracted, because the Japanese font is embedded with its Unicode map."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, cast

import httpx
from fastapi import FastAPI
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject

from app.auth.roles import Role
from app.core.clock import FixedClock
from tests.conftest import KeyFactory
from tests.invoices.receivables_support import example_a_june, monthly_invoice, pay_ok
from tests.support.databases import BoundDatabase

Headers = dict[str, str]


def text_of(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def _dict(obj: Any) -> DictionaryObject:
    return cast(DictionaryObject, obj.get_object())


def embedded_fonts(pdf: bytes) -> list[str]:
    """Names of the fonts whose TrueType program is embedded (FontFile2)."""
    reader = PdfReader(io.BytesIO(pdf))
    found = []
    for page in reader.pages:
        for ref in _dict(_dict(page["/Resources"])["/Font"]).values():
            for descendant in cast(ArrayObject, _dict(ref).get("/DescendantFonts", [])):
                descriptor = _dict(_dict(descendant)["/FontDescriptor"])
                if "/FontFile2" in descriptor:
                    found.append(str(descriptor["/FontName"]))
    return found


async def test_pdf_is_a_qualified_invoice_with_extractable_text_r_inv_2(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase, clock: FixedClock
) -> None:
    _, invoice_id = await example_a_june(client, admin, database, clock)
    invoice = (await client.get(f"/v1/invoices/{invoice_id}", headers=admin)).json()
    response = await client.get(f"/v1/invoices/{invoice_id}/pdf", headers=admin)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert embedded_fonts(response.content), "the Japanese font is not embedded"
    text = text_of(response.content)
    for expected in (
        "請求書",
        invoice["number"],
        "登録番号 T1234567890123",
        invoice["issuer"]["name"],
        "株式会社サンプル 経理部 御中",
        "発行日 2026年7月1日",
        "2026年6月分",
        "お支払期限 2026年7月31日",
        "10%対象 課税小計",
        "643,000円",
        "消費税（10%）",
        "64,300円",
        "不課税小計",
        "合計",
        "707,300円",
    ):
        assert expected in text, f"{expected!r} not in the PDF text:\n{text}"
    for line in invoice["lines"]:
        assert line["description"] in text
        assert f"{line['amount']:,}" in text
    assert "課税" in text


async def test_pdf_marks_non_taxable_lines(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase, clock: FixedClock
) -> None:
    from tests.invoices.receivables_support import monthly_invoice

    contract, june = await example_a_june(client, admin, database, clock)
    await pay_ok(client, admin, june, "2026-08-11", 707_300)  # late: 2,809 for July
    july = await monthly_invoice(database, clock, contract, "2026-07")
    text = text_of((await client.get(f"/v1/invoices/{july}/pdf", headers=admin)).content)
    assert "遅延損害金" in text
    assert "不課税" in text  # issue 14 §3: out of scope, not exempt
    assert "非課税" not in text
    # The note names the out-of-scope charges this invoice bills, as the price book says.
    assert "不課税（消費税の課税対象外）: 遅延損害金。" in text
    assert "2,809" in text
    assert "105,109円" in text  # 93,000 + 9,300 + 2,809


async def test_pdf_for_portal_and_a_clear_error_without_the_font(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin: Headers,
    make_key: KeyFactory,
    database: BoundDatabase,
    clock: FixedClock,
    tmp_path: Path,
) -> None:
    contract, invoice_id = await example_a_june(client, admin, database, clock)
    portal = await make_key(Role.PORTAL, customer_id=contract["customer_id"])
    first = await client.get(f"/v1/invoices/{invoice_id}/pdf", headers=portal)
    assert first.status_code == 200
    partner = await make_key(Role.PARTNER)
    assert (await client.get(f"/v1/invoices/{invoice_id}/pdf", headers=partner)).status_code == 403
    july = await monthly_invoice(database, clock, contract, "2026-07")
    app.state.settings = app.state.settings.model_copy(
        update={"invoice_font_path": tmp_path / "missing.ttf"}
    )
    # Issue 14 §4: a PDF once rendered is stored and needs the font no more.
    again = await client.get(f"/v1/invoices/{invoice_id}/pdf", headers=admin)
    assert (again.status_code, again.content) == (200, first.content)
    response = await client.get(f"/v1/invoices/{july}/pdf", headers=admin)
    assert response.status_code == 503
    assert response.json()["code"] == "invoice_font_missing"


def test_the_invoice_font_ships_with_the_package_issue_9_s8(project_root: Path) -> None:
    """No system font, no `make fonts`: the default font is the TrueType file in the
    package, its licence beside it, and pyproject's package-data puts both in the wheel."""
    import fnmatch
    import struct
    import tomllib

    from app.core.settings import Settings

    font = Settings().invoice_font_path
    package = project_root / "app" / "invoices"
    assert font == package / "fonts" / "ipaexg.ttf"
    assert font.is_file()
    with font.open("rb") as f:
        head = f.read(12)
        tables = f.read(16 * struct.unpack(">H", head[4:6])[0])
    # TrueType outlines (sfnt 1.0 with a glyf table, not CFF's "OTTO"): pypdf extracts text.
    assert head[:4] == b"\x00\x01\x00\x00"
    tags = {tables[i : i + 4] for i in range(0, len(tables), 16)}
    assert b"glyf" in tags
    assert b"CFF " not in tags
    assert "IPA Font License Agreement v1.0" in (
        font.parent / "IPA_Font_License_Agreement_v1.0.txt"
    ).read_text(encoding="utf-8")
    pyproject = tomllib.loads((project_root / "pyproject.toml").read_text(encoding="utf-8"))
    globs = pyproject["tool"]["setuptools"]["package-data"]["app.invoices"]
    shipped = {p.relative_to(package).as_posix() for p in (package / "fonts").iterdir()}
    for name in ("fonts/ipaexg.ttf", "fonts/IPA_Font_License_Agreement_v1.0.txt"):
        assert name in shipped
        assert any(fnmatch.fnmatch(name, g) for g in globs), f"{name} is not package data"


def _long_invoice(lines: int) -> bytes:
    """A month of many lines (a synthetic, unsaved invoice), rendered as issued."""
    from datetime import UTC, date, datetime

    from app.core.settings import Settings
    from app.invoices.models import Invoice, InvoiceLine
    from app.invoices.pdf import PayDetails, render
    from app.invoices.receivables import InvoiceView

    invoice = Invoice(
        id="inv_long",
        number="INV-2026-0000099",
        contract_id="ctr_long",
        customer_id="cus_long",
        kind="monthly",
        month="2026-07",
        issued_on=date(2026, 8, 1),
        due_on=date(2026, 8, 31),
        recipient_name="株式会社サンプル 経理部",
        issuer_name="アルテリア・ネットワークス株式会社",
        issuer_registration_number="T1345678901234",
        license_ids=1_250,
        tax_rate_percent="10",
        taxable_subtotal=lines * 1_075_000,
        tax=lines * 107_500,
        non_taxable_subtotal=0,
        total=lines * 1_182_500,
        status="issued",
        created_at=datetime(2026, 8, 1, tzinfo=UTC),
    )
    rows = [
        InvoiceLine(
            invoice_id=invoice.id,
            position=n,
            item="complete-advantage",
            description=f"Cisco Secure Connect Complete Advantage プラン（明細{n}）",
            quantity=125,
            unit_price=8_600,
            amount=1_075_000,
            taxable=True,
            rule="R-CAT-2",
        )
        for n in range(1, lines + 1)
    ]
    view = InvoiceView(invoice=invoice, lines=rows, credit_notes=[])
    return render(view, Settings().invoice_font_path, PayDetails())


def test_a_long_invoice_numbers_its_pages_issue_14_s3() -> None:
    reader = PdfReader(io.BytesIO(_long_invoice(60)))
    pages = [page.extract_text() for page in reader.pages]
    assert len(pages) > 2
    for n, text in enumerate(pages, start=1):
        # Each page says which document it belongs to and where it stands.
        assert f"INV-2026-0000099　{n} / {len(pages)}" in text, text[-200:]
        assert "品目・内容" in text  # the table's heading repeats on every page
    assert "合計" in pages[-1]


def test_a_per_10_ids_quantity_states_its_unit_on_one_line_r_cat_2() -> None:
    """Issue 14 §3: quantities with their unit; 125 units (1,250 IDs) do not wrap."""
    text = text_of(_long_invoice(1))
    assert "125（10ID単位）" in text, text
    # Nothing on this invoice is out of scope: no note naming out-of-scope charges.
    assert "不課税小計" in text
    assert "消費税の課税対象外" not in text
