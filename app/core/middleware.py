"""The request pipeline around every route: request id, access log, metrics.

Written as plain ASGI middleware (not ``BaseHTTPMiddleware``) so it adds no task hop and
sees the final status even when an error handler produced the response. Later stages of
the pipeline (idempotency keys, rate limits) slot in as further middleware of this kind.
"""

from __future__ import annotations

import functools
import logging
import re
import secrets
import time
from typing import Any

from starlette.types import Message, Receive, Scope, Send

from app.core.asgi import HttpMiddleware
from app.core.errors import internal_error_response
from app.core.metrics import LATENCY, REQUESTS

access_log = logging.getLogger("scms.access")
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            return text if _VALID_REQUEST_ID.match(text) else None
    return None


@functools.cache
def _counted(method: str, template: str, status: int) -> Any:
    """The request counter's child for these labels: prometheus_client looks its children
    up under a lock on every ``labels()``. Kept for the process, as prometheus_client keeps
    the children themselves: methods, route templates and statuses are few."""
    return REQUESTS.labels(method, template, str(status))


@functools.cache
def _timed(method: str, template: str) -> Any:
    return LATENCY.labels(method, template)


class RequestContextMiddleware(HttpMiddleware):
    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        # 32 hex digits, as uuid4().hex was (and half its cost).
        request_id = _incoming_request_id(scope) or secrets.token_hex(16)
        state: dict[str, Any] = scope.setdefault("state", {})
        state["request_id"] = request_id
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode("latin-1")))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            # The trace goes to the log; the client gets a problem+json 500 with the id.
            access_log.exception("unhandled error", extra={"request_id": request_id})
            if response_started:
                raise
            response = internal_error_response(scope["path"], request_id)
            await response(scope, receive, send_with_id)
        finally:
            duration = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None) or "<unmatched>"
            method = scope["method"]
            _counted(method, template, status).inc()
            _timed(method, template).observe(duration)
            if access_log.isEnabledFor(logging.INFO):  # (no record built at WARNING)
                access_log.info(
                    "request",
                    extra={
                        "method": method,
                        "path": scope["path"],
                        "route": template,
                        "status": status,
                        "duration_ms": round(duration * 1000, 2),
                        "request_id": request_id,
                        "api_key_id": state.get("api_key_id"),
                    },
                )
