"""issue 12 §3: /v1/webhook-endpoints — register, secret shown once, rotate, ping, redeliver."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook

from app.audit.models import AuditRecord
from app.auth.roles import Role
from app.core.clock import FixedClock
from app.core.settings import Settings
from app.events.catalogue import EventType
from app.webhooks.delivery import deliver_due
from tests.conftest import KeyFactory
from tests.support.databases import BoundDatabase
from tests.webhooks.conftest import add_event
from tests.webhooks.receiver import Receiver

BASE = "/v1/webhook-endpoints"


async def register(
    client: httpx.AsyncClient, headers: dict[str, str], url: str, events: list[str] | None = None
) -> dict[str, object]:
    response = await client.post(
        BASE,
        json={"url": url, "events": events or ["customer.created"], "description": "CRM"},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


async def test_the_secret_is_shown_once_at_registration(
    hook_client: httpx.AsyncClient, admin: dict[str, str], receiver: Receiver
) -> None:
    response = await hook_client.post(
        BASE, json={"url": receiver.url, "events": ["invoice.issued"]}, headers=admin
    )
    assert response.status_code == 201
    created = response.json()
    assert re.fullmatch(r"whsec_[A-Za-z0-9+/]{32}", created["secret"])
    assert response.headers["location"] == f"{BASE}/{created['id']}"
    assert (created["status"], created["events"], created["url"]) == (
        "enabled",
        ["invoice.issued"],
        receiver.url,
    )
    read = (await hook_client.get(f"{BASE}/{created['id']}", headers=admin)).json()
    listed = (await hook_client.get(BASE, headers=admin)).json()["items"]
    assert "secret" not in read
    assert [e["id"] for e in listed] == [created["id"]]
    assert "secret" not in listed[0]
    assert created["secret"] not in response.text.replace(created["secret"], "", 1)


async def test_only_admins_manage_webhook_endpoints(
    hook_client: httpx.AsyncClient, make_key: KeyFactory, receiver: Receiver
) -> None:
    operator = await make_key(Role.OPERATOR)
    response = await hook_client.post(
        BASE, json={"url": receiver.url, "events": ["invoice.issued"]}, headers=operator
    )
    assert response.status_code == 403
    assert (await hook_client.get(BASE, headers=operator)).status_code == 403


async def test_http_and_private_urls_are_refused_with_webhook_url_not_allowed(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    for url in ("http://crm.example.co.jp/hooks", "https://10.0.0.5/hooks", "https://[::1]/h"):
        response = await client.post(
            BASE, json={"url": url, "events": ["invoice.issued"]}, headers=admin
        )
        assert response.status_code == 422, url
        problem = response.json()
        assert problem["code"] == "webhook_url_not_allowed"
        assert problem["field"] == "url"
    assert (await client.get(BASE, headers=admin)).json()["items"] == []


async def test_unknown_or_repeated_event_types_are_a_validation_error(
    hook_client: httpx.AsyncClient, admin: dict[str, str], receiver: Receiver
) -> None:
    for events in (["invoice.exploded"], ["invoice.paid", "invoice.paid"], []):
        response = await hook_client.post(
            BASE, json={"url": receiver.url, "events": events}, headers=admin
        )
        assert response.status_code == 422, events
        assert response.json()["code"] == "validation_error"


async def test_a_deleted_endpoint_is_gone_and_the_log_holds_no_secret(
    hook_client: httpx.AsyncClient,
    admin: dict[str, str],
    receiver: Receiver,
    database: BoundDatabase,
) -> None:
    created = await register(hook_client, admin, receiver.url)
    response = await hook_client.delete(f"{BASE}/{created['id']}", headers=admin)
    assert response.status_code == 204
    missing = await hook_client.get(f"{BASE}/{created['id']}", headers=admin)
    assert missing.status_code == 404
    assert missing.json()["code"] == "webhook_endpoint_not_found"
    again = await hook_client.delete(f"{BASE}/{created['id']}", headers=admin)
    assert again.status_code == 404
    async with database.sessionmaker() as session:
        records = (
            await session.scalars(
                select(AuditRecord)
                .where(AuditRecord.resource_id == created["id"])
                .order_by(AuditRecord.seq)
            )
        ).all()
    assert [r.action for r in records] == ["webhook_endpoints.create", "webhook_endpoints.delete"]
    assert all(str(created["secret"]) not in str((r.before, r.after)) for r in records)


async def test_a_rotated_secret_signs_alongside_the_old_one_for_24_hours(
    hook_client: httpx.AsyncClient,
    admin: dict[str, str],
    receiver: Receiver,
    database: BoundDatabase,
    hook_settings: Settings,
    now_clock: FixedClock,
) -> None:
    created = await register(hook_client, admin, receiver.url)
    response = await hook_client.post(f"{BASE}/{created['id']}/rotate-secret", headers=admin)
    assert response.status_code == 200
    rotated = response.json()
    assert rotated["secret"] != created["secret"]
    expires = now_clock.now() + timedelta(hours=24)
    assert rotated["previous_secret_expires_at"] == expires.isoformat().replace("+00:00", "Z")
    await add_event(database, now_clock)
    await deliver_due(database, hook_settings, now_clock)
    [got] = receiver.received
    Webhook(str(created["secret"])).verify(got.body, got.headers)
    Webhook(rotated["secret"]).verify(got.body, got.headers)


async def test_the_test_ping_is_signed_and_reports_the_receivers_answer(
    hook_client: httpx.AsyncClient, admin: dict[str, str], receiver: Receiver
) -> None:
    created = await register(hook_client, admin, receiver.url)
    response = await hook_client.post(f"{BASE}/{created['id']}/test", headers=admin)
    assert response.status_code == 200
    result = response.json()
    assert (result["delivered"], result["status_code"], result["error"]) == (True, 200, None)
    [got] = receiver.received
    payload = Webhook(str(created["secret"])).verify(got.body, got.headers)
    assert payload["type"] == "webhook_endpoint.test"
    assert payload["data"] == {"endpoint_id": created["id"]}
    assert got.headers["webhook-id"] == result["webhook_id"]

    receiver.status = 500
    failed = (await hook_client.post(f"{BASE}/{created['id']}/test", headers=admin)).json()
    assert (failed["delivered"], failed["status_code"], failed["error"]) == (
        False,
        500,
        "HTTP 500",
    )
    missing = await hook_client.post(f"{BASE}/whe_nothing/test", headers=admin)
    assert missing.status_code == 404


async def test_deliveries_are_listed_and_a_failed_one_can_be_sent_again(
    hook_client: httpx.AsyncClient,
    admin: dict[str, str],
    receiver: Receiver,
    database: BoundDatabase,
    hook_settings: Settings,
    now_clock: FixedClock,
) -> None:
    hook_settings.webhook_retry_delays = (5,)
    created = await register(hook_client, admin, receiver.url)
    event = await add_event(database, now_clock, EventType.CUSTOMER_CREATED)
    receiver.status = 502
    await deliver_due(database, hook_settings, now_clock)
    now_clock.instant += timedelta(seconds=5)
    await deliver_due(database, hook_settings, now_clock)

    listed = await hook_client.get(f"{BASE}/{created['id']}/deliveries", headers=admin)
    assert listed.status_code == 200
    [delivery] = listed.json()["items"]
    assert delivery["event_id"] == event.id
    assert delivery["event_type"] == "customer.created"
    assert (delivery["status"], delivery["attempts"], delivery["last_status_code"]) == (
        "failed",
        2,
        502,
    )
    assert delivery["last_error"] == "HTTP 502"
    assert delivery["next_attempt_at"] is None
    assert isinstance(delivery["last_duration_ms"], int)
    pending = await hook_client.get(
        f"{BASE}/{created['id']}/deliveries", params={"status": "pending"}, headers=admin
    )
    assert pending.json()["items"] == []

    retry = await hook_client.post(
        f"{BASE}/{created['id']}/deliveries/{delivery['id']}/retry", headers=admin
    )
    assert retry.status_code == 202
    assert retry.json()["status"] == "pending"
    receiver.status = 200
    assert await deliver_due(database, hook_settings, now_clock) == 1
    assert receiver.ids() == [event.id]
    done = (await hook_client.get(f"{BASE}/{created['id']}/deliveries", headers=admin)).json()
    assert done["items"][0]["status"] == "delivered"

    unknown = await hook_client.post(
        f"{BASE}/{created['id']}/deliveries/whd_nothing/retry", headers=admin
    )
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "webhook_delivery_not_found"


async def test_a_disabled_endpoints_delivery_cannot_be_retried(
    hook_client: httpx.AsyncClient,
    admin: dict[str, str],
    receiver: Receiver,
    database: BoundDatabase,
    hook_settings: Settings,
    now_clock: FixedClock,
) -> None:
    created = await register(hook_client, admin, receiver.url)
    await add_event(database, now_clock)
    receiver.status = 410
    await deliver_due(database, hook_settings, now_clock)
    endpoint = (await hook_client.get(f"{BASE}/{created['id']}", headers=admin)).json()
    assert endpoint["status"] == "disabled"
    [delivery] = (
        await hook_client.get(f"{BASE}/{created['id']}/deliveries", headers=admin)
    ).json()["items"]
    retry = await hook_client.post(
        f"{BASE}/{created['id']}/deliveries/{delivery['id']}/retry", headers=admin
    )
    assert retry.status_code == 409
    assert retry.json()["code"] == "webhook_endpoint_disabled"


async def test_metrics_show_the_outbox_lag_until_the_event_is_delivered(
    hook_client: httpx.AsyncClient,
    admin: dict[str, str],
    receiver: Receiver,
    database: BoundDatabase,
    hook_settings: Settings,
    now_clock: FixedClock,
) -> None:
    await register(hook_client, admin, receiver.url)
    await add_event(database, now_clock)
    now_clock.instant += timedelta(seconds=42)

    def gauge(text: str, name: str) -> float:
        match = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
        assert match, name
        return float(match.group(1))

    before = (await hook_client.get("/metrics")).text
    assert gauge(before, "scms_outbox_lag_seconds") == 42.0
    await deliver_due(database, hook_settings, now_clock)
    after = (await hook_client.get("/metrics")).text
    assert gauge(after, "scms_outbox_lag_seconds") == 0.0
    assert gauge(after, 'scms_webhook_deliveries{status="delivered"}') == 1.0
    assert gauge(after, 'scms_webhook_deliveries{status="pending"}') == 0.0
    assert 'scms_webhook_attempts_total{outcome="delivered"}' in after
