"""Which URLs a webhook may be sent to (issue 12 §3): public ``https`` targets only.

Checked when an endpoint is registered and again before every attempt, after DNS: a name
that resolved to a public address at registration may point inside the network later.
``SCMS_WEBHOOK_ALLOW_PRIVATE_URLS=true`` lifts the check (development and tests).
The check happens before the connection is made, so a name whose answer changes between
the two (DNS rebinding within seconds) is a residual risk; the redirects a receiver
answers are never followed, so it cannot send us elsewhere.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import SplitResult, urlsplit

RESOLVE_TIMEOUT_SECONDS = 5.0


class UrlRefused(ValueError):
    """The URL is not one the service sends webhooks to; the message says why."""


def _parts(url: str, *, allow_private: bool) -> SplitResult:
    if any(ord(c) <= 32 or ord(c) == 127 for c in url):
        raise UrlRefused("the URL must not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - a port that is not a number raises here
    except ValueError as exc:
        raise UrlRefused(f"not a URL: {exc}") from None
    schemes = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in schemes:
        raise UrlRefused("the URL must be https")
    if not parts.hostname:
        raise UrlRefused("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise UrlRefused("the URL must not carry credentials")
    if parts.fragment:
        raise UrlRefused("the URL must not have a #fragment")
    return parts


def check_form(url: str, *, allow_private: bool) -> None:
    """The URL's own form: https, a host, no credentials (no DNS)."""
    _parts(url, allow_private=allow_private)


def refused_address(address: str) -> str | None:
    """Why the address is not a public one, or None when it is."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return f"{address} is a loopback address"
    if ip.is_link_local:
        return f"{address} is a link-local address"
    if ip.is_unspecified or ip.is_multicast:
        return f"{address} is not a public address"
    if ip.is_private:
        return f"{address} is a private address"
    if ip.is_reserved or not ip.is_global:
        return f"{address} is not a public address"
    return None


async def resolve(host: str, port: int) -> list[str]:
    """Every address the host resolves to (tests replace this function)."""
    loop = asyncio.get_running_loop()
    infos = await asyncio.wait_for(
        loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), RESOLVE_TIMEOUT_SECONDS
    )
    return sorted({str(info[4][0]) for info in infos})


async def check_url(url: str, *, allow_private: bool) -> None:
    """Raise :class:`UrlRefused` unless every address the URL's host resolves to is public."""
    parts = _parts(url, allow_private=allow_private)
    if allow_private:
        return
    host = parts.hostname or ""
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        try:
            addresses = await resolve(host, parts.port or 443)
        except (OSError, TimeoutError, ValueError) as exc:
            raise UrlRefused(f"{host} does not resolve ({type(exc).__name__})") from None
    if not addresses:
        raise UrlRefused(f"{host} does not resolve")
    for address in addresses:
        reason = refused_address(address)
        if reason is not None:
            raise UrlRefused(f"{host}: {reason}")
