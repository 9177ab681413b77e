"""Issue 11: every read endpoint runs a fixed number of SQL statements, whatever the data.

A counter on the engine counts the statements each GET sends (the test harness's own
SAVEPOINTs aside). A contract reads in one statement whatever its history; a list answers
in the same number of statements for a page of one item as for a page of many, so an N+1
fails here, not only in the bench. Every GET path of the OpenAPI document must be listed
below: a new read endpoint gets a budget when it is added.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from app.auth.roles import Role
from app.core.clock import FixedClock
from app.core.settings import Settings
from app.webhooks.delivery import deliver_due
from tests.conftest import KeyFactory
from tests.einvoice.scenario import make_documents
from tests.price_books.factories import price_book_body
from tests.support.factories import EXAMPLE_B, activate, apply, create_customer, post_ok
from tests.support.worker import app_of

Headers = dict[str, str]
_HARNESS = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")

# path -> (query parameters, most statements a warm request may send). Lists are also
# checked for the same count at page sizes 1 and 50.
BUDGETS: dict[str, tuple[dict[str, str], int]] = {
    "/healthz": ({}, 0),
    "/readyz": ({}, 2),
    # Issue 12 §5: jobs by state, the outbox lag and deliveries by status, read per scrape.
    "/metrics": ({}, 4),
    "/v1/api-keys": ({}, 1),
    "/v1/api-keys/{key_id}": ({}, 1),
    "/v1/price-books": ({}, 1),
    "/v1/price-books/{price_book_id}": ({}, 1),
    "/v1/customers": ({}, 1),
    "/v1/customers/{customer_id}": ({}, 1),
    "/v1/contracts": ({}, 1),
    "/v1/contracts/{contract_id}": ({}, 1),
    "/v1/contracts/{contract_id}/events": ({}, 2),
    "/v1/contracts/{contract_id}/license-changes": ({}, 3),
    "/v1/contracts/{contract_id}/termination-quote": ({"effective_on": "2026-12-31"}, 1),
    "/v1/contracts/{contract_id}/suspensions": ({}, 2),
    "/v1/contracts/{contract_id}/charges": ({}, 2),
    "/v1/contracts/{contract_id}/invoice-preview": ({"month": "2026-12"}, 7),
    "/v1/billing-runs": ({}, 1),
    "/v1/billing-runs/{run_id}": ({}, 1),
    "/v1/invoices/export": ({}, 2),
    "/v1/invoices": ({}, 1),
    "/v1/invoices/{invoice_id}": ({}, 1),
    "/v1/invoices/{invoice_id}/late-charge": ({}, 6),
    "/v1/invoices/{invoice_id}/jp-pint": ({}, 4),
    "/v1/invoices/{invoice_id}/pdf": ({}, 4),
    "/v1/credit-notes": ({}, 1),
    "/v1/credit-notes/{credit_note_id}": ({}, 2),
    "/v1/credit-notes/{credit_note_id}/jp-pint": ({}, 3),
    "/v1/credit-notes/{credit_note_id}/pdf": ({}, 3),
    "/v1/events": ({}, 1),
    "/v1/events/{event_id}": ({}, 1),
    "/v1/webhook-endpoints": ({}, 1),
    "/v1/webhook-endpoints/{endpoint_id}": ({}, 1),
    "/v1/webhook-endpoints/{endpoint_id}/deliveries": ({}, 2),
    "/v1/soc-reports": ({}, 2),
    "/v1/soc-reports/{report_id}": ({}, 2),
    "/v1/audit-events": ({}, 2),
    "/v1/audit-events/export": ({}, 4),
    "/v1/stats/monthly": ({"month": "2026-10"}, 7),
    # Off here (404 sandbox_off): in a sandbox it reads the stored offset, one statement.
    "/v1/sandbox/clock": ({}, 0),
}
SANDBOX_ONLY = {"/v1/sandbox/clock"}
# The GETs answering a Page (checked against the OpenAPI document below).
LISTS = [
    "/v1/api-keys",
    "/v1/price-books",
    "/v1/customers",
    "/v1/contracts",
    "/v1/contracts/{contract_id}/events",
    "/v1/contracts/{contract_id}/license-changes",
    "/v1/contracts/{contract_id}/suspensions",
    "/v1/contracts/{contract_id}/charges",
    "/v1/billing-runs",
    "/v1/invoices",
    "/v1/credit-notes",
    "/v1/events",
    "/v1/webhook-endpoints",
    "/v1/webhook-endpoints/{endpoint_id}/deliveries",
    "/v1/soc-reports",
    "/v1/audit-events",
]


class StatementCounter:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.statements: list[str] = []
        self.counting = False

    def _seen(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if self.counting and not statement.lstrip().upper().startswith(_HARNESS):
            self.statements.append(statement)

    @contextmanager
    def installed(self) -> Iterator[StatementCounter]:
        event.listen(self.engine.sync_engine, "before_cursor_execute", self._seen)
        try:
            yield self
        finally:
            event.remove(self.engine.sync_engine, "before_cursor_execute", self._seen)

    @contextmanager
    def counted(self) -> Iterator[list[str]]:
        self.statements = []
        self.counting = True
        try:
            yield self.statements
        finally:
            self.counting = False


@pytest.fixture
def settings(database_url: str) -> Settings:
    # Keys stay verified for the whole test: its scenario takes longer than the default.
    return Settings(
        database_url=database_url,
        admin_api_key=None,
        log_level="WARNING",
        api_key_cache_seconds=300,
        webhook_allow_private_urls=True,  # endpoints on a closed local port: deliveries fail
    )


@pytest.fixture
def counter(engine: AsyncEngine) -> Iterator[StatementCounter]:
    with StatementCounter(engine).installed() as counter:
        yield counter


async def _ids(
    client: httpx.AsyncClient, admin: Headers, clock: FixedClock, make_key: KeyFactory
) -> dict[str, str]:
    documents = await make_documents(client, admin, clock)
    invoice = documents["late-payment-charge"].record
    note = documents["credit-note"].record
    # Every list needs a page of several items: keys, price books, credit notes.
    for role in (Role.OPERATOR, Role.CRM):
        await make_key(role)
    await post_ok(client, "/v1/price-books", admin, price_book_body("2027-01-01"))
    monthly = documents["monthly"].record
    await post_ok(
        client,
        f"/v1/invoices/{monthly['id']}/credit-notes",
        admin,
        {"reason": "返還", "lines": [{"description": "返還", "amount": 1_000, "taxable": True}]},
    )
    # A contract with a long history: licence changes, option changes, a suspension.
    clock.instant = FixedClock.on(date(2026, 5, 1)).instant
    customer = await create_customer(client, admin)
    contract = await activate(client, admin, await apply(client, admin, customer["id"]))
    clock.instant = FixedClock.on(date(2026, 11, 24)).instant
    base = f"/v1/contracts/{contract['id']}"
    for month, licences in ((7, 130), (8, 140), (9, 150), (10, 160)):
        await post_ok(
            client,
            f"{base}/license-changes",
            admin,
            {"effective_on": f"2026-{month:02d}-01", "license_ids": licences},
        )
    for starts_on, ends_on in (("2026-12-01", "2026-12-05"), ("2026-12-10", "2026-12-15")):
        await post_ok(
            client,
            f"{base}/suspensions",
            admin,
            {"starts_on": starts_on, "ends_on": ends_on, "reason": "maintenance"},
        )
    for amount in (10_000, 20_000):
        await post_ok(
            client,
            f"{base}/charges",
            admin,
            {"kind": "work", "description": "作業", "amount": amount, "month": "2026-12"},
        )
    # Two SOC reports of a contract with soc; two webhook endpoints with failed deliveries.
    soc = await activate(client, admin, await apply(client, admin, customer["id"], **EXAMPLE_B))
    partner = await make_key(Role.PARTNER)
    for start, end in (("2026-09-01", "2026-09-30"), ("2026-10-01", "2026-10-31")):
        body = {"contract_id": soc["id"], "period_start": start, "period_end": end}
        body |= {"status": "normal", "incident_count": 0, "summary": "検知なし"}
        await post_ok(client, "/v1/soc-reports", partner, body)
    for name in ("CRM", "ERP"):
        hook = {"url": f"https://127.0.0.1:9/{name}", "events": ["customer.created"]}
        endpoint = await post_ok(client, "/v1/webhook-endpoints", admin, hook)
    for _ in range(2):
        await create_customer(client, admin)
    app = app_of(client)
    await deliver_due(app.state.database, app.state.settings, clock)
    keys = (await client.get("/v1/api-keys", headers=admin)).json()["items"]
    books = (await client.get("/v1/price-books", headers=admin)).json()["items"]
    runs = (await client.get("/v1/billing-runs", headers=admin)).json()["items"]
    events = (await client.get("/v1/events", headers=admin)).json()["items"]
    reports = (await client.get("/v1/soc-reports", headers=admin)).json()["items"]
    return {
        "event_id": events[0]["id"],
        "endpoint_id": endpoint["id"],
        "report_id": reports[0]["id"],
        "contract_id": contract["id"],
        "customer_id": customer["id"],
        "invoice_id": invoice["id"],
        "credit_note_id": note["id"],
        "key_id": keys[0]["id"],
        "price_book_id": books[0]["id"],
        "run_id": runs[0]["id"],
    }


async def _count(
    client: httpx.AsyncClient,
    counter: StatementCounter,
    path: str,
    params: dict[str, str],
    headers: Headers,
) -> list[str]:
    warm = await client.get(path, params=params, headers=headers)  # caches filled
    assert warm.status_code == 200, f"{path}: {warm.text}"
    with counter.counted() as statements:
        response = await client.get(path, params=params, headers=headers)
        assert response.status_code == 200, f"{path}: {response.text}"
    return list(statements)


def test_every_read_endpoint_has_a_budget(app: FastAPI) -> None:
    paths = app.openapi()["paths"]
    assert {path for path, item in paths.items() if "get" in item} == set(BUDGETS)
    pages = {
        path
        for path, item in paths.items()
        if "get" in item
        and item["get"]["responses"]["200"]["content"]
        .get("application/json", {})
        .get("schema", {})
        .get("$ref", "")
        .startswith("#/components/schemas/Page_")
    }
    assert pages == set(LISTS)


async def test_every_read_runs_a_fixed_number_of_statements(
    client: httpx.AsyncClient,
    admin: Headers,
    clock: FixedClock,
    counter: StatementCounter,
    make_key: KeyFactory,
) -> None:
    ids = await _ids(client, admin, clock, make_key)
    over = {}
    for template, (params, budget) in BUDGETS.items():
        if template in SANDBOX_ONLY:
            continue
        statements = await _count(client, counter, template.format(**ids), params, admin)
        if len(statements) > budget:
            over[template] = statements
    assert over == {}


async def test_a_contract_reads_in_one_statement_whatever_its_history(
    client: httpx.AsyncClient,
    admin: Headers,
    clock: FixedClock,
    counter: StatementCounter,
    make_key: KeyFactory,
) -> None:
    ids = await _ids(client, admin, clock, make_key)
    path = f"/v1/contracts/{ids['contract_id']}"
    statements = await _count(client, counter, path, {}, admin)
    assert len(statements) == 1, statements
    assert (await client.get(path, headers=admin)).json()["license_ids"] == 160


@pytest.mark.parametrize("path", LISTS)
async def test_a_list_costs_the_same_for_one_item_as_for_fifty(
    client: httpx.AsyncClient,
    admin: Headers,
    clock: FixedClock,
    counter: StatementCounter,
    make_key: KeyFactory,
    path: str,
) -> None:
    ids = await _ids(client, admin, clock, make_key)
    params = BUDGETS[path][0]
    url = path.format(**ids)
    one = await _count(client, counter, url, {**params, "limit": "1"}, admin)
    many = await _count(client, counter, url, {**params, "limit": "50"}, admin)
    page = (await client.get(url, params={**params, "limit": "50"}, headers=admin)).json()
    assert len(page["items"]) > 1, f"{path}: the check needs a page of several items"
    assert len(one) == len(many), (one, many)
