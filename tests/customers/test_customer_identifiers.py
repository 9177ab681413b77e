"""Issue 14 §2: a customer's 法人番号 (check digit), registration number and Peppol id."""

from __future__ import annotations

import httpx

from tests.support.factories import customer_body

Headers = dict[str, str]


async def test_identifiers_are_recorded_and_read_back(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    body = customer_body(
        corporate_number="7000012050002",
        registration_number="T7000012050002",
        peppol_id="0188:7000012050002",
    )
    created = await client.post("/v1/customers", json=body, headers=admin)
    assert created.status_code == 201, created.text
    read = created.json()
    assert (read["corporate_number"], read["registration_number"], read["peppol_id"]) == (
        "7000012050002",
        "T7000012050002",
        "0188:7000012050002",
    )
    cleared = await client.patch(
        f"/v1/customers/{read['id']}", json={"peppol_id": None}, headers=admin
    )
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["peppol_id"] is None


async def test_a_wrong_check_digit_is_refused(client: httpx.AsyncClient, admin: Headers) -> None:
    for field, value in (
        ("corporate_number", "1000012050002"),
        ("corporate_number", "700001205000"),
        ("registration_number", "T1000012050002"),
        ("registration_number", "T0000000000000"),
        ("peppol_id", "7000012050002"),
    ):
        response = await client.post(
            "/v1/customers", json=customer_body(**{field: value}), headers=admin
        )
        assert response.status_code == 422, (field, value, response.text)
