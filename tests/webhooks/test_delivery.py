"""issue 12 §4: events reach the endpoints that asked for them, signed, retried, at least once."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from app.core.clock import FixedClock
from app.core.settings import Settings
from app.events.catalogue import EventType
from app.events.models import Event
from app.webhooks.delivery import deliver_due
from app.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.support.databases import BoundDatabase
from tests.webhooks.conftest import add_endpoint, add_event
from tests.webhooks.receiver import Receiver


async def deliveries(database: BoundDatabase) -> list[WebhookDelivery]:
    async with database.sessionmaker() as session:
        return list((await session.scalars(select(WebhookDelivery))).all())


async def endpoint_of(database: BoundDatabase, endpoint_id: str) -> WebhookEndpoint:
    async with database.sessionmaker() as session:
        endpoint = await session.get(WebhookEndpoint, endpoint_id)
        assert endpoint is not None
        return endpoint


async def test_an_event_is_delivered_signed_so_that_standardwebhooks_verifies_it(
    database: BoundDatabase, hook_settings: Settings, now_clock: FixedClock, receiver: Receiver
) -> None:
    endpoint = await add_endpoint(database, now_clock, receiver.url, [EventType.CUSTOMER_CREATED])
    event = await add_event(database, now_clock)

    assert await deliver_due(database, hook_settings, now_clock) == 1

    [got] = receiver.received
    assert got.headers["webhook-id"] == event.id
    assert got.headers["content-type"] == "application/json"
    payload = Webhook(endpoint.secret).verify(got.body, got.headers)
    assert payload == {
        "id": event.id,
        "type": "customer.created",
        "timestamp": event.occurred_at.isoformat(),
        "data": {"id": "cus_1", "name": "株式会社テスト"},
    }
    with pytest.raises(WebhookVerificationError):
        Webhook(endpoint.secret).verify(got.body.replace(b"cus_1", b"cus_2"), got.headers)
    [delivery] = await deliveries(database)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)
    assert delivery.lease_expires_at is None
    # Nothing is due any more: a second loop sends nothing again.
    assert await deliver_due(database, hook_settings, now_clock) == 0
    assert len(receiver.received) == 1


async def test_only_endpoints_that_asked_for_the_type_and_existed_get_the_event(
    database: BoundDatabase, hook_settings: Settings, now_clock: FixedClock, receiver: Receiver
) -> None:
    wants = await add_endpoint(database, now_clock, receiver.url, [EventType.INVOICE_ISSUED])
    await add_endpoint(database, now_clock, receiver.url + "/other", [EventType.INVOICE_PAID])
    issued = await add_event(database, now_clock, EventType.INVOICE_ISSUED)
    await add_event(database, now_clock, EventType.CUSTOMER_CREATED)
    now_clock.instant += timedelta(seconds=1)
    await add_endpoint(database, now_clock, receiver.url + "/late", [EventType.INVOICE_ISSUED])

    assert await deliver_due(database, hook_settings, now_clock) == 1

    [delivery] = await deliveries(database)
    assert (delivery.endpoint_id, delivery.event_id) == (wants.id, issued.id)
    async with database.sessionmaker() as session:
        left = await session.scalar(
            select(func.count()).select_from(Event).where(Event.dispatched_at.is_(None))
        )
    assert left == 0, "every event is marked fanned out, matched or not"


async def test_a_receiver_down_then_up_gets_the_event_on_the_retry_schedule(
    database: BoundDatabase, hook_settings: Settings, now_clock: FixedClock, receiver: Receiver
) -> None:
    await add_endpoint(database, now_clock, receiver.url, [EventType.CUSTOMER_CREATED])
    event = await add_event(database, now_clock)
    receiver.status = 503
    start = now_clock.now()

    assert await deliver_due(database, hook_settings, now_clock) == 1
    [delivery] = await deliveries(database)
    assert delivery.status == "pending"
    assert delivery.last_status_code == 503
    assert delivery.last_error == "HTTP 503"
    assert delivery.next_attempt_at == start + timedelta(seconds=5)
    # Not due before its delay.
    assert await deliver_due(database, hook_settings, now_clock) == 0

    now_clock.instant += timedelta(seconds=5)
    assert await deliver_due(database, hook_settings, now_clock) == 1
    [delivery] = await deliveries(database)
    assert delivery.next_attempt_at == now_clock.now() + timedelta(seconds=300)

    receiver.status = 200
    now_clock.instant += timedelta(seconds=300)
    assert await deliver_due(database, hook_settings, now_clock) == 1
    [delivery] = await deliveries(database)
    assert (delivery.status, delivery.attempts) == ("delivered", 3)
    assert receiver.ids() == [event.id]
    assert receiver.hits == 3


async def test_a_receiver_that_is_not_listening_at_all_is_retried_too(
    database: BoundDatabase, hook_settings: Settings, now_clock: FixedClock
) -> None:
    receiver = Receiver().start()
    url = receiver.url
    receiver.stop()
    await add_endpoint(database, now_clock, url, [EventType.CUSTOMER_CREATED])
    await add_event(database, now_clock)

    assert await deliver_due(database, hook_settings, now_clock) == 1

    [delivery] = await deliveries(database)
    assert delivery.status == "pending"
    assert delivery.last_status_code is None
    assert delivery.last_error is not None
    assert "Connect" in delivery.last_error


async def test_after_the_last_retry_the_delivery_is_failed_and_kept(
    database: BoundDatabase, hook_settings: Settings, now_clock: FixedClock, receiver: Receiver
) -> None:
    await add_endpoint(database, now_clock, receiver.url, [EventType.CUSTOMER_CREATED])
    await add_event(database, now_clock)
    receiver.status = 500
    for delay in (*hook_settings.webhook_retry_delays, 0):
        assert await deliver_due(database, hook_settings, now_clock) == 1
        now_clock.instant += timedelta(seconds=delay)
    [delivery] = await deliveries(database)
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", 4, None)
    now_clock.instant += timedelta(days=1)
    assert await deliver_due(database, hook_settings, now_clock) == 0


async def test_a_slow_receiver_times_out_and_is_retried(
    database: BoundDatabase, hook_settings: Settings, now_clock: FixedClock, receiver: Receiver
) -> None:
    await add_endpoint(database, now_clock, receiver.url, [EventType.CUSTOMER_CREATED])
    await add_event(database, now_clock)
    receiver.delay = hook_settings.webhook_timeout_seconds + 0.5

    assert await deliver_due(database, hook_settings, now_clock) == 1

    [delivery] = await deliveries(database)
    assert delivery.status == "pending"
    assert delivery.last_error == "timed out after 1 s"


async def test_a_410_disables_the_endpoint_with_an_event_saying_so(
    database: BoundDatabase, hook_settings: Settings, now_clock: FixedClock, receiver: Receiver
) -> None:
    endpoint = await add_endpoint(database, now_clock, receiver.url, [EventType.CUSTOMER_CREATED])
    await add_event(database, now_clock)
    await add_event(database, now_clock)
    receiver.status = 410
    hook_settings.webhook_batch_size = 1

    assert await deliver_due(database, hook_settings, now_clock) == 1

    disabled = await endpoint_of(database, endpoint.id)
    assert disabled.status == "disabled"
    assert disabled.disabled_reason == "The endpoint answered 410 Gone."
    async with database.sessionmaker() as session:
        [event] = (
            await session.scalars(select(Event).where(Event.type == "webhook_endpoint.disabled"))
        ).all()
    assert event.resource_id == endpoint.id
    assert event.data["status"] == "disabled"
    assert "secret" not in event.data
    # The other event is not sent to a disabled endpoint.
    receiver.status = 200
    assert await deliver_due(database, hook_settings, now_clock) == 0
    assert receiver.hits == 1


async def test_five_days_of_nothing_but_failures_disable_the_endpoint(
    database: BoundDatabase, hook_settings: Settings, now_clock: FixedClock, receiver: Receiver
) -> None:
    hook_settings.webhook_retry_delays = (86400,) * 10
    endpoint = await add_endpoint(database, now_clock, receiver.url, [EventType.CUSTOMER_CREATED])
    await add_event(database, now_clock)
    receiver.status = 500
    for day in range(5):
        assert await deliver_due(database, hook_settings, now_clock) == 1
        assert (await endpoint_of(database, endpoint.id)).status == "enabled", day
        now_clock.instant += timedelta(days=1)

    assert await deliver_due(database, hook_settings, now_clock) == 1

    disabled = await endpoint_of(database, endpoint.id)
    assert disabled.status == "disabled"
    assert disabled.disabled_reason == "Every attempt failed for 5 days."
    async with database.sessionmaker() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(Event)
            .where(Event.type == "webhook_endpoint.disabled", Event.resource_id == endpoint.id)
        )
    assert count == 1


async def test_a_success_in_between_resets_the_five_days(
    database: BoundDatabase, hook_settings: Settings, now_clock: FixedClock, receiver: Receiver
) -> None:
    hook_settings.webhook_retry_delays = (86400,) * 10
    endpoint = await add_endpoint(database, now_clock, receiver.url, [EventType.CUSTOMER_CREATED])
    await add_event(database, now_clock)
    receiver.status = 500
    await deliver_due(database, hook_settings, now_clock)
    assert (await endpoint_of(database, endpoint.id)).failing_since == now_clock.now()
    now_clock.instant += timedelta(days=1)
    receiver.status = 200
    await deliver_due(database, hook_settings, now_clock)
    assert (await endpoint_of(database, endpoint.id)).failing_since is None


async def test_a_url_that_now_resolves_to_a_private_address_is_refused_at_delivery(
    database: BoundDatabase, hook_settings: Settings, now_clock: FixedClock, receiver: Receiver
) -> None:
    await add_endpoint(database, now_clock, receiver.url, [EventType.CUSTOMER_CREATED])
    await add_event(database, now_clock)
    hook_settings.webhook_allow_private_urls = False

    assert await deliver_due(database, hook_settings, now_clock) == 1

    [delivery] = await deliveries(database)
    assert delivery.status == "pending"
    assert delivery.last_error is not None
    assert delivery.last_error.startswith("webhook_url_not_allowed")
    assert receiver.hits == 0


async def test_after_a_rotation_both_secrets_sign_for_24_hours(
    database: BoundDatabase, hook_settings: Settings, now_clock: FixedClock, receiver: Receiver
) -> None:
    endpoint = await add_endpoint(database, now_clock, receiver.url, [EventType.CUSTOMER_CREATED])
    old = endpoint.secret
    async with database.sessionmaker() as session:
        stored = await session.get(WebhookEndpoint, endpoint.id)
        assert stored is not None
        stored.previous_secret = old
        stored.previous_secret_expires_at = now_clock.now() + timedelta(seconds=30)
        stored.secret = new = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo="
        await session.commit()
    await add_event(database, now_clock)
    await deliver_due(database, hook_settings, now_clock)
    [got] = receiver.received
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(got.body, got.headers)
    Webhook(new).verify(got.body, got.headers)

    now_clock.instant += timedelta(seconds=30)
    await add_event(database, now_clock)
    await deliver_due(database, hook_settings, now_clock)
    late = receiver.received[1]
    Webhook(new).verify(late.body, late.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(late.body, late.headers)


async def test_a_claimed_delivery_is_not_sent_again_until_its_lease_expires(
    database: BoundDatabase, hook_settings: Settings, now_clock: FixedClock, receiver: Receiver
) -> None:
    """A worker killed after claiming leaves a lease; the next one takes over after it."""
    from app.webhooks.delivery import _claim

    await add_endpoint(database, now_clock, receiver.url, [EventType.CUSTOMER_CREATED])
    event = await add_event(database, now_clock)
    async with database.sessionmaker() as session:
        from app.webhooks.fanout import fan_out

        await fan_out(session, now_clock.now())
        await session.commit()
    assert len(await _claim(database, hook_settings, now_clock.now())) == 1  # then "killed"

    assert await deliver_due(database, hook_settings, now_clock) == 0
    now_clock.instant += timedelta(seconds=hook_settings.webhook_lease_seconds)
    assert await deliver_due(database, hook_settings, now_clock) == 1
    assert receiver.ids() == [event.id]


def test_the_delivered_body_is_the_json_that_was_signed() -> None:
    from datetime import UTC, datetime

    from app.webhooks import signing

    at = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)
    content = signing.body("evt_1", "invoice.issued", at, {"total": 11000})
    assert json.loads(content) == {
        "id": "evt_1",
        "type": "invoice.issued",
        "timestamp": "2026-12-02T01:00:00+00:00",
        "data": {"total": 11000},
    }


async def test_an_endpoint_deleted_while_its_batch_is_in_flight_is_no_error(
    database: BoundDatabase,
    hook_settings: Settings,
    now_clock: FixedClock,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sqlalchemy import delete

    from app.webhooks import delivery

    await add_endpoint(database, now_clock, receiver.url, [EventType.CUSTOMER_CREATED])
    await add_event(database, now_clock)
    await add_event(database, now_clock)
    send_all = delivery._send_all

    async def send_then_delete(*args: object, **kwargs: object) -> object:
        results = await send_all(*args, **kwargs)  # type: ignore[arg-type]
        async with database.sessionmaker() as session:
            await session.execute(delete(WebhookEndpoint))
            await session.commit()
        return results

    monkeypatch.setattr(delivery, "_send_all", send_then_delete)

    assert await deliver_due(database, hook_settings, now_clock) == 2

    assert await deliveries(database) == []
    assert len(receiver.received) == 2
