"""Issue 14 §3, §4: what an invoice states of its issuer (address, telephone, transfer
accounts), of the contract (licence IDs) and of the customer (its own reference) is what
was true at issue, however late the document is first rendered."""

from __future__ import annotations

from datetime import date

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from app.core.clock import FixedClock
from app.core.settings import BankAccount
from app.invoices.models import IssuerSnapshot
from tests.einvoice.scenario import BANK_ACCOUNT, _invoice, _on, _run
from tests.invoices.test_invoice_pdf import text_of
from tests.support.databases import BoundDatabase
from tests.support.factories import activate, apply, create_customer, post_ok

Headers = dict[str, str]
OLD_ADDRESS = "東京都千代田区神田練塀町3 富士ソフトビル"
NEW_ADDRESS = "大阪府大阪市北区梅田1-1-1"
NEW_BANK = BankAccount(
    bank_code="0005",
    bank_name="三菱UFJ銀行",
    branch_code="001",
    branch_name="本店",
    account_number="7654321",
    account_holder="ｱﾙﾃﾘｱ.ﾈﾂﾄﾜ-ｸｽ(ｶ",
)


def _issuer(app: FastAPI, address: str, bank: BankAccount, telephone: str) -> None:
    app.state.settings = app.state.settings.model_copy(
        update={
            "issuer_address": address,
            "issuer_telephone": telephone,
            "issuer_bank_accounts": [bank],
        }
    )


async def _snapshots(database: BoundDatabase) -> int:
    async with database.sessionmaker() as session:
        return (
            await session.execute(select(func.count()).select_from(IssuerSnapshot))
        ).scalar_one()


async def test_documents_state_the_issuer_and_contract_as_at_issue_issue_14_4(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin: Headers,
    database: BoundDatabase,
    clock: FixedClock,
) -> None:
    _issuer(app, OLD_ADDRESS, BANK_ACCOUNT, "03-1111-1111")
    _on(clock, date(2026, 5, 1))
    customer = await create_customer(client, admin, external_ref="CRM-00042")
    contract = await apply(client, admin, customer["id"], license_ids=95)
    _on(clock, date(2026, 6, 15))
    await activate(client, admin, contract)
    _on(clock, date(2026, 7, 1))
    await _run(client, admin, "2026-06")
    _on(clock, date(2026, 8, 1))
    await _run(client, admin, "2026-07")
    assert await _snapshots(database) == 1  # both runs, one row: the settings were the same
    june = await _invoice(client, admin, contract["id"], "2026-06")

    # The issuer moves and changes bank; the customer changes its reference.
    _issuer(app, NEW_ADDRESS, NEW_BANK, "06-2222-2222")
    changed = await client.patch(
        f"/v1/customers/{customer['id']}", json={"external_ref": "CRM-99999"}, headers=admin
    )
    assert changed.status_code == 200, changed.text

    pdf = await client.get(f"/v1/invoices/{june['id']}/pdf", headers=admin)
    assert pdf.status_code == 200, pdf.text
    text = text_of(pdf.content)
    assert OLD_ADDRESS in text
    assert "TEL 03-1111-1111" in text
    assert "みずほ銀行 (0001)" in text or "みずほ銀行（0001）" in text
    assert NEW_ADDRESS not in text
    assert "三菱UFJ銀行" not in text
    assert "お客様管理番号 CRM-00042" in text
    assert "ライセンスID数 95ID" in text
    xml = (await client.get(f"/v1/invoices/{june['id']}/jp-pint", headers=admin)).text
    assert OLD_ADDRESS in xml
    assert NEW_ADDRESS not in xml
    assert "0001:110:1:1234567" in xml
    assert "7654321" not in xml

    # A credit note issued now states the issuer as it is now: its own snapshot.
    note = await post_ok(
        client,
        f"/v1/invoices/{june['id']}/credit-notes",
        admin,
        {"reason": "返還", "lines": [{"description": "返還", "amount": 1_000, "taxable": True}]},
    )
    assert await _snapshots(database) == 2
    note_xml = (await client.get(f"/v1/credit-notes/{note['id']}/jp-pint", headers=admin)).text
    assert NEW_ADDRESS in note_xml, note_xml[:3000]
    note_pdf = text_of(
        (await client.get(f"/v1/credit-notes/{note['id']}/pdf", headers=admin)).content
    )
    assert NEW_ADDRESS in note_pdf
    assert "お客様管理番号 CRM-00042" in note_pdf  # the invoice's reference, as issued


async def test_a_month_states_the_licence_ids_it_bills_r_cat_2(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase, clock: FixedClock
) -> None:
    """A licence increase in July: July's invoice states the higher quantity it bills."""
    _on(clock, date(2026, 5, 1))
    customer = await create_customer(client, admin)
    contract = await apply(client, admin, customer["id"], license_ids=50)
    _on(clock, date(2026, 6, 15))
    await activate(client, admin, contract)
    _on(clock, date(2026, 7, 1))
    await _run(client, admin, "2026-06")
    _on(clock, date(2026, 7, 10))
    await post_ok(
        client,
        f"/v1/contracts/{contract['id']}/license-changes",
        admin,
        {"license_ids": 120, "effective_on": "2026-07-15"},
    )
    _on(clock, date(2026, 8, 1))
    await _run(client, admin, "2026-07")
    june = await _invoice(client, admin, contract["id"], "2026-06")
    july = await _invoice(client, admin, contract["id"], "2026-07")
    june_text = text_of((await client.get(f"/v1/invoices/{june['id']}/pdf", headers=admin)).content)
    july_text = text_of((await client.get(f"/v1/invoices/{july['id']}/pdf", headers=admin)).content)
    assert "ライセンスID数 50ID" in june_text
    assert "ライセンスID数 120ID" in july_text
    assert "お客様管理番号" not in july_text  # the customer has no reference of its own
