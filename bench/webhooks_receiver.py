"""The benchmark's webhook receiver: an ASGI app that answers 204 and does nothing else.

Served by uvicorn in a process of its own (keep-alive), so that the receiver is not what
the benchmark measures.
"""

from __future__ import annotations

from typing import Any


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})
