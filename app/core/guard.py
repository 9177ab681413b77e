"""The gate every request passes before a route sees it (issue 9 §5: no 500 for any input).

One pure-ASGI middleware, in this order, each step answering problem+json itself:

1. A NUL character in the path, the query or a header is 422 ``invalid_character``
   (PostgreSQL cannot store one in text; it used to be a 500).
2. A ``Content-Length`` over ``SCMS_MAX_BODY_BYTES`` is 413 ``body_too_large`` at once.
3. Protected routes (under ``/v1/``) are authenticated by the injected ``authenticate`` hook, so a
   caller without a valid key gets its 401 before a byte of the body is read. FastAPI
   reads the body before it runs any dependency; this is why it happens here.
4. A body that is not JSON is 415 ``unsupported_media_type`` (the API speaks only JSON).
5. The body is read in its chunks, counted as they come: one over the limit is 413 with
   at most one chunk past the limit in memory (chunked bodies carry no Content-Length).
6. A body that is not UTF-8, or a JSON string holding a NUL or a lone surrogate (neither
   can be stored; the second cannot even be encoded as UTF-8), is 422
   ``invalid_character`` naming the field (FastAPI answered bytes it could not decode
   with a bare 400).

The body, at most ``SCMS_MAX_BODY_BYTES``, is then handed on to the route unchanged.
Errors are raised as :class:`AppError` and rendered by the application's own exception
handlers, so a handler added for another error (a database outage during the key look-up)
applies here too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Iterator
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.asgi import HttpMiddleware
from app.core.errors import AppError, Unprocessable

Authenticate = Callable[[Scope], Awaitable[None]]

JSON_MEDIA_TYPE = "application/json"
_MATCHES_KEPT = 10_000  # (method, path) pairs remembered as protected or not
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")
# A JSON text can only carry a NUL or a surrogate as an escape; without one of these
# the body needs no second look. A match may be a false alarm (an escaped backslash, a
# valid surrogate pair), which the parse below sorts out.
_SUSPECT_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")


class PayloadTooLarge(AppError):
    status, code, title = 413, "body_too_large", "The request body is too large"


class UnsupportedMediaType(AppError):
    status, code, title = 415, "unsupported_media_type", "Unsupported media type"


_NUL_MESSAGE = "Contains a NUL character or an unpaired surrogate."


def _invalid_character(where: str, field: str, message: str = _NUL_MESSAGE) -> Unprocessable:
    what = "the path" if where == "path" else f"{where} {field!r}"
    detail = (
        f"A NUL character or an unpaired surrogate in {what} cannot be stored; "
        "remove it and send the request again."
        if message is _NUL_MESSAGE
        else f"The body is not UTF-8 text: {message[0].lower()}{message[1:]}"
    )
    return Unprocessable(
        detail,
        code="invalid_character",
        errors=[{"field": field, "in": where, "message": message, "type": "invalid_character"}],
    )


def _check_path_query_headers(scope: Scope) -> None:
    if "\x00" in scope["path"]:
        raise _invalid_character("path", scope["path"].replace("\x00", "\\u0000"))
    query = scope.get("query_string", b"")
    if query:
        for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
            if "\x00" in name or "\x00" in value:
                raise _invalid_character("query", name.replace("\x00", "\\u0000"))
    for name, value in scope.get("headers", ()):
        if b"\x00" in value or b"\x00" in name:
            raise _invalid_character("header", name.decode("latin-1").replace("\x00", "\\u0000"))


def _header(scope: Scope, wanted: bytes) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == wanted:
            return str(value.decode("latin-1"))
    return None


def _content_length(scope: Scope) -> int | None:
    raw = _header(scope, b"content-length")
    if raw is None:
        return None
    if not raw.strip().isdigit():
        raise AppError(
            "Content-Length must be a whole number of bytes.", code="invalid_content_length"
        )
    return int(raw)


def is_json_media_type(content_type: str | None) -> bool:
    if content_type is None:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    return media == JSON_MEDIA_TYPE or (
        media.startswith("application/") and media.endswith("+json")
    )


def _bad_strings(value: Any, path: tuple[str, ...] = ()) -> Iterator[str]:
    """The dotted path of every string (value or key) that cannot be stored."""
    if isinstance(value, str):
        if _BAD_TEXT.search(value):
            yield ".".join(path) or "body"
    elif isinstance(value, dict):
        for key, item in value.items():
            if _BAD_TEXT.search(key):
                yield ".".join((*path, key.encode("unicode_escape").decode()))
            else:
                yield from _bad_strings(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _bad_strings(item, (*path, str(index)))


def check_json_text(body: bytes) -> None:
    """422 ``invalid_character`` when the body is not UTF-8 (RFC 8259 §8.1) or a JSON string
    holds a NUL or an unpaired surrogate.

    A body that is not valid JSON passes: the route's own parsing reports where it breaks.
    """
    if not body.isascii():
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _invalid_character(
                "body", "body", f"Byte {exc.start} is not UTF-8; send JSON as UTF-8."
            ) from exc
    if not _SUSPECT_ESCAPE.search(body):
        return
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return
    for field in _bad_strings(document):
        raise _invalid_character("body", field)


def _handler_for(scope: Scope, exc: Exception) -> Callable[..., Awaitable[Any]] | None:
    handlers: dict[Any, Any] = getattr(scope.get("app"), "exception_handlers", {})
    for cls in type(exc).__mro__:
        if cls in handlers:
            handler: Callable[..., Awaitable[Any]] = handlers[cls]
            return handler
    return None


class RequestGuardMiddleware(HttpMiddleware):
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        authenticate: Authenticate,
        protected_prefix: str = "/v1/",
    ) -> None:
        super().__init__(app)
        self.max_body_bytes = max_body_bytes
        self.authenticate = authenticate
        self.protected_prefix = protected_prefix
        self._matched: dict[tuple[str, str], bool] = {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            receive = await self._admit(scope, receive)
        except Exception as exc:
            handler = _handler_for(scope, exc)
            if handler is None:
                raise
            response = await handler(Request(scope), exc)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _admit(self, scope: Scope, receive: Receive) -> Receive:
        """Check the request; the ``receive`` that replays its body to the route."""
        _check_path_query_headers(scope)
        length = _content_length(scope)
        if length is not None and length > self.max_body_bytes:
            raise self._too_large()
        if self._protected(scope):
            await self.authenticate(scope)
        has_body = bool(length) or _header(scope, b"transfer-encoding") is not None
        if not has_body:
            return receive
        if not is_json_media_type(_header(scope, b"content-type")):
            raise UnsupportedMediaType(
                f"Send the body as {JSON_MEDIA_TYPE} (with a Content-Type header saying so).",
                accepted=[JSON_MEDIA_TYPE],
            )
        body, last = await self._read_body(receive)
        check_json_text(body)
        return _replay(body, last, receive)

    def _protected(self, scope: Scope) -> bool:
        """A path under the prefix that names a route (else the router's 404/405 stands).

        Remembered per (method, path) for the process: the routes do not change while it
        runs, and matching every route costs as much as a small request (issue 11)."""
        if not scope["path"].startswith(self.protected_prefix):
            return False
        key = (scope.get("method", ""), scope["path"])
        known = self._matched.get(key)
        if known is None:
            routes = getattr(getattr(scope.get("app"), "router", None), "routes", ())
            known = any(route.matches(scope)[0] is Match.FULL for route in routes)
            if len(self._matched) >= _MATCHES_KEPT:
                self._matched.clear()
            self._matched[key] = known
        return known

    async def _read_body(self, receive: Receive) -> tuple[bytes, Message | None]:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                # The client went away; the route sees the disconnect after the body.
                return b"".join(chunks), message
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise self._too_large()
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks), None

    def _too_large(self) -> PayloadTooLarge:
        return PayloadTooLarge(
            f"The body may have at most {self.max_body_bytes} bytes (SCMS_MAX_BODY_BYTES).",
            max_body_bytes=self.max_body_bytes,
        )


def _replay(body: bytes, last: Message | None, receive: Receive) -> Receive:
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]
    if last is not None:
        pending.append(last)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay
