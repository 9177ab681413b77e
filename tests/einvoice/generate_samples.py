"""Write the JP PINT XML of every kind of document into a folder (issue 14 §1).

    .venv/bin/python -m tests.einvoice.generate_samples OUTPUT_FOLDER

Creates a fresh SQLite database in a temporary folder, migrates it, drives the app
through the API (tests/einvoice/scenario.py) and writes one ``<kind>.xml`` per document
(and each document's PDF beside it, to look at).
``.ci/run`` then checks them with the official JP PINT 1.1.3 validator.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from datetime import date
from pathlib import Path

import httpx

from app.api_keys.schemas import ApiKeyCreate
from app.api_keys.service import create_key
from app.auth.roles import Role
from app.core.clock import FixedClock
from app.core.database import Database, create_engine
from app.core.migrations import upgrade
from app.core.settings import Settings
from app.main import create_app
from tests.einvoice.scenario import BANK_ACCOUNT, ISSUER_ADDRESS, make_documents

# A registration number with a valid check digit (T + a made-up 法人番号), not the placeholder.
ISSUER_NUMBER = "T1345678901234"


async def generate(output: Path) -> list[Path]:
    clock = FixedClock.on(date(2026, 5, 1))
    with tempfile.TemporaryDirectory(prefix="scms-jppint-") as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'samples.db'}"
        await asyncio.to_thread(upgrade, url)
        database = Database(create_engine(url, pool_size=5))
        try:
            async with database.sessionmaker.begin() as session:
                _, secret = await create_key(
                    session, ApiKeyCreate(name="samples", role=Role.ADMIN), clock
                )
            settings = Settings(
                database_url=url,
                log_level="WARNING",
                env="production",
                issuer_registration_number=ISSUER_NUMBER,
                issuer_address=ISSUER_ADDRESS,
                issuer_telephone="03-6823-0000",
                issuer_bank_accounts=[BANK_ACCOUNT],
            )
            app = create_app(settings, database=database, clock=clock)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://samples") as client:
                headers = {"Authorization": f"Bearer {secret}"}
                documents = await make_documents(client, headers, clock)
                pdfs = {
                    name: (
                        await client.get(f"/v1/invoices/{s.record['id']}/pdf", headers=headers)
                    ).content
                    for name, s in documents.items()
                    if name != "credit-note"
                }
                note = documents["credit-note"].record["id"]
                pdfs["credit-note"] = (
                    await client.get(f"/v1/credit-notes/{note}/pdf", headers=headers)
                ).content
        finally:
            await database.dispose()
    output.mkdir(parents=True, exist_ok=True)
    written = []
    for name, sample in documents.items():
        path = output / f"{name}.xml"
        path.write_bytes(sample.xml)
        written.append(path)
    for name, body in pdfs.items():  # to look at (issue 14 §3); the validator reads the XML
        (output / f"{name}.pdf").write_bytes(body)
    return written


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    for path in asyncio.run(generate(Path(argv[0]))):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
