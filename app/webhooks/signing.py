"""Standard Webhooks signing, with the ``standardwebhooks`` reference library.

The signed content is ``{webhook-id}.{webhook-timestamp}.{body}``; ``webhook-signature``
lists one ``v1,<base64 HMAC-SHA256>`` per secret in force, separated by spaces, so that
during a rotation's overlap a receiver holding either secret verifies the message.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from math import floor
from typing import Any

from standardwebhooks.webhooks import Webhook

SECRET_PREFIX = "whsec_"
USER_AGENT = "scms-webhooks/1"


def new_secret() -> str:
    """``whsec_`` and 24 random bytes in base64, the form the library and receivers expect."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def body(message_id: str, type: str, timestamp: datetime, data: Mapping[str, Any]) -> str:
    """The JSON body sent: the event as the events API shows it."""
    payload = {
        "id": message_id,
        "type": type,
        "timestamp": timestamp.astimezone(UTC).isoformat(),
        "data": data,
    }
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def headers(
    signing_secrets: Sequence[str], message_id: str, sent_at: datetime, content: str
) -> dict[str, str]:
    """The request headers of one attempt, signed with every secret in force."""
    utc = sent_at.astimezone(UTC)
    signature = " ".join(
        Webhook(secret).sign(msg_id=message_id, timestamp=utc, data=content)
        for secret in signing_secrets
    )
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": message_id,
        "webhook-timestamp": str(floor(utc.timestamp())),
        "webhook-signature": signature,
    }
