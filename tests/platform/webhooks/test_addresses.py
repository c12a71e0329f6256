"""Which URLs a subscription may call (SSRF): refused with a clear message when saved."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import pytest

from guanxi.platform.core.errors import ValidationFailed
from guanxi.platform.webhooks import addresses
from guanxi.platform.webhooks.addresses import address_is_public, validate_webhook_url

PUBLIC = "93.184.215.14"


@pytest.fixture
def no_private(settings: Any) -> None:
    settings.GUANXI_WEBHOOKS_ALLOW_PRIVATE_HOSTS = False


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """Names the tests resolve, without the network: {host: [addresses]}; unknown names do not resolve."""
    table: dict[str, list[str]] = {}

    def fake_getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        try:
            ipaddress.ip_address(host)
        except ValueError:
            if host not in table:
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known") from None
            found = table[host]
        else:
            found = [host]
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in found]

    monkeypatch.setattr(addresses.socket, "getaddrinfo", fake_getaddrinfo)
    return table


def _message(url: str) -> str:
    with pytest.raises(ValidationFailed) as failed:
        validate_webhook_url(url)
    assert list(failed.value.fields) == ["url"]
    return failed.value.fields["url"][0]


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.215.14", True),
        ("2606:2800:21f:cb07:6820:80da:af6b:8b2c", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.10", False),
        ("169.254.169.254", False),  # cloud metadata
        ("100.64.0.1", False),  # shared address space (carrier NAT)
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("240.0.0.1", False),
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:93.184.215.14", True),
    ],
)
def test_only_public_unicast_addresses_are_public(address: str, public: bool) -> None:
    assert address_is_public(ipaddress.ip_address(address)) is public


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "Enter the address that receives the webhooks."),
        ("not a url", "An address cannot contain spaces."),
        ("erp.example.com/hooks", "Use an address starting with https:// (or http://)."),
        ("ftp://erp.example.com/hooks", "Use an address starting with https:// (or http://)."),
        ("file:///etc/passwd", "Use an address starting with https:// (or http://)."),
        ("https://", "Enter a valid address such as https://example.com/hooks."),
        ("https://exa_mple.com/", "Enter a valid address such as https://example.com/hooks."),
        ("https://example.com:99999/", "Enter a valid address such as https://example.com/hooks."),
        (
            "https://user:pw@example.com/",
            "Put no user name or password in the address; receivers check the signature instead.",
        ),
        ("https://example.com/" + "a" * 500, "Keep the address to 500 characters or fewer."),
    ],
)
def test_malformed_urls_are_refused_with_a_clear_message(url: str, message: str) -> None:
    assert _message(url) == message


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("http://127.0.0.1:8080/hooks", "127.0.0.1"),
        ("http://[::1]/hooks", "::1"),
        ("https://10.0.0.5/hooks", "10.0.0.5"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254"),
        ("http://localhost/hooks", "localhost"),
        ("http://internal.example.com/hooks", "internal.example.com"),
        ("http://mixed.example.com/hooks", "mixed.example.com"),  # one public and one private address
    ],
)
def test_private_and_reserved_hosts_are_refused(
    no_private: None, dns: dict[str, list[str]], url: str, host: str
) -> None:
    dns.update(
        {"localhost": ["127.0.0.1"], "internal.example.com": ["10.0.0.8"], "mixed.example.com": [PUBLIC, "10.0.0.9"]}
    )
    assert _message(url) == (
        f"“{host}” points to a private, loopback or reserved network address; webhooks may only call public addresses."
    )


def test_public_hosts_pass_and_unknown_hosts_are_refused(no_private: None, dns: dict[str, list[str]]) -> None:
    dns["erp.example.com"] = [PUBLIC, "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]
    assert validate_webhook_url("  https://erp.example.com/hooks?x=1  ") == "https://erp.example.com/hooks?x=1"
    assert _message("https://nowhere.invalid/hooks") == (
        "The host “nowhere.invalid” could not be found; check the address."
    )


def test_private_hosts_pass_when_the_settings_allow_them(settings: Any, dns: dict[str, list[str]]) -> None:
    settings.GUANXI_WEBHOOKS_ALLOW_PRIVATE_HOSTS = True
    assert validate_webhook_url("http://127.0.0.1:9000/hooks") == "http://127.0.0.1:9000/hooks"
    assert validate_webhook_url("http://receiver:9000/hooks") == "http://receiver:9000/hooks"  # no lookup


def test_plain_http_is_refused_when_the_settings_require_https(settings: Any) -> None:
    settings.GUANXI_WEBHOOKS_ALLOW_HTTP = False
    assert _message("http://erp.example.com/hooks") == "Use an https:// address; this installation refuses plain http."
    assert validate_webhook_url("https://127.0.0.1/hooks") == "https://127.0.0.1/hooks"  # private allowed in tests
