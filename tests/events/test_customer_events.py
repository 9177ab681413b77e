"""issue 12 §2: customers record customer.created and customer.updated with their change."""

from __future__ import annotations

import httpx
import pytest

from tests.events.support import Headers, latest_is_get, only, stored, total
from tests.support.databases import BoundDatabase
from tests.support.factories import create_customer, customer_body


@pytest.mark.parametrize("external_ref", [None, "crm-1"])
async def test_a_new_customer_is_recorded_as_its_get_reads(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase, external_ref: str | None
) -> None:
    customer = await create_customer(client, admin, external_ref=external_ref)
    path = f"/v1/customers/{customer['id']}"
    event = await latest_is_get(client, database, admin, type="customer.created", path=path)
    assert event.data == customer
    assert (event.customer_id, event.resource_type, event.resource_id) == (
        customer["id"],
        "customer",
        customer["id"],
    )
    assert event.request_id is not None


async def test_an_update_is_recorded_and_a_no_op_is_not(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase
) -> None:
    customer = await create_customer(client, admin)
    path = f"/v1/customers/{customer['id']}"
    response = await client.patch(path, json={"phone": "03-1111-2222"}, headers=admin)
    assert response.status_code == 200, response.text
    event = await latest_is_get(client, database, admin, type="customer.updated", path=path)
    assert event.data["phone"] == "03-1111-2222"
    assert event.data["version"] == 2
    same = await client.patch(path, json={"phone": "03-1111-2222"}, headers=admin)
    assert same.status_code == 200, same.text
    assert len(await stored(database, customer["id"], "customer.updated")) == 1


async def test_a_refused_create_or_update_records_nothing(
    client: httpx.AsyncClient, admin: Headers, database: BoundDatabase
) -> None:
    customer = await create_customer(client, admin, external_ref="crm-1")
    before = await total(database)
    taken = await client.post(
        "/v1/customers", json=customer_body(external_ref="crm-1"), headers=admin
    )
    assert taken.status_code == 409, taken.text
    stale = await client.patch(
        f"/v1/customers/{customer['id']}",
        json={"phone": "03-1111-2222"},
        headers={**admin, "If-Match": '"stale"'},
    )
    assert stale.status_code == 412, stale.text
    assert await total(database) == before
    await only(database, customer["id"], "customer.created")
