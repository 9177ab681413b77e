"""issue 12 §3: webhooks go to public https URLs only, checked after DNS."""

from __future__ import annotations

import pytest

from app.webhooks import urls
from app.webhooks.urls import UrlRefused, check_url


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    answers: dict[str, list[str]] = {}

    async def resolve(host: str, port: int) -> list[str]:
        if host not in answers:
            raise OSError("no such host")
        return answers[host]

    monkeypatch.setattr(urls, "resolve", resolve)
    return answers


async def test_a_public_https_url_is_allowed(dns: dict[str, list[str]]) -> None:
    dns["crm.example.co.jp"] = ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]
    await check_url("https://crm.example.co.jp/hooks", allow_private=False)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://crm.example.co.jp/hooks", "must be https"),
        ("ftp://crm.example.co.jp/hooks", "must be https"),
        ("https:///hooks", "no host"),
        ("https://user:pw@crm.example.co.jp/hooks", "credentials"),
        ("https://127.0.0.1/hooks", "loopback"),
        ("https://[::1]/hooks", "loopback"),
        ("https://10.1.2.3/hooks", "private"),
        ("https://192.168.0.10/hooks", "private"),
        ("https://172.16.5.4/hooks", "private"),
        ("https://169.254.169.254/latest/meta-data", "link-local"),
        ("https://[fe80::1]/hooks", "link-local"),
        ("https://[::ffff:127.0.0.1]/hooks", "loopback"),
        ("https://0.0.0.0/hooks", "not a public"),
        ("https://100.64.0.1/hooks", "not a public"),
        ("https://224.0.0.1/hooks", "not a public"),
        ("https://nowhere.invalid/hooks", "does not resolve"),
        ("https://crm.example.co.jp/a b", "spaces or control"),
        ("https://crm.example.co.jp:99999/hooks", "not a URL"),
    ],
)
async def test_urls_that_are_refused_say_why(
    dns: dict[str, list[str]], url: str, reason: str
) -> None:
    with pytest.raises(UrlRefused, match=reason):
        await check_url(url, allow_private=False)


async def test_a_name_with_any_private_address_is_refused(dns: dict[str, list[str]]) -> None:
    dns["mixed.example.co.jp"] = ["93.184.215.14", "10.0.0.7"]
    with pytest.raises(UrlRefused, match="10.0.0.7 is a private address"):
        await check_url("https://mixed.example.co.jp/hooks", allow_private=False)


async def test_a_host_the_resolver_cannot_even_encode_is_refused() -> None:
    with pytest.raises(UrlRefused, match="does not resolve"):
        await check_url("https://" + "a" * 70 + ".example.co.jp/hooks", allow_private=False)


async def test_localhost_resolves_to_loopback_with_the_real_resolver() -> None:
    with pytest.raises(UrlRefused, match="loopback"):
        await check_url("https://localhost:8443/hooks", allow_private=False)


async def test_development_allows_http_and_private_targets() -> None:
    await check_url("http://127.0.0.1:9000/hooks", allow_private=True)
    with pytest.raises(UrlRefused, match="https"):
        await check_url("ftp://127.0.0.1/hooks", allow_private=True)
