"""Which URLs a webhook may call: http(s) only, https only in production, and never (unless the operator allows
it) a host that resolves to a loopback, private, link-local, shared, multicast or reserved address — the guard
against server-side request forgery (SSRF).

The URL is checked when a subscription is saved (`validate_webhook_url`, clear messages) and again when each
attempt is sent, because DNS answers may change: the sending transport resolves the host itself, checks every
address with `address_is_public` and connects to the checked address (`transport.GuardedBackend`).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from urllib.parse import SplitResult, urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

from guanxi.platform.core.errors import ValidationFailed

URL_MAX = 500
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressNotAllowed(Exception):
    """A host resolved to an address webhooks may not call; the message names host and address."""


def private_hosts_allowed() -> bool:
    return bool(getattr(settings, "GUANXI_WEBHOOKS_ALLOW_PRIVATE_HOSTS", False))


def http_allowed() -> bool:
    return bool(getattr(settings, "GUANXI_WEBHOOKS_ALLOW_HTTP", True))


def address_is_public(address: IPAddress) -> bool:
    """True for globally routable unicast addresses; IPv4-mapped IPv6 addresses are judged as IPv4."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to (IP literals resolve to themselves). Raises OSError when it cannot."""
    results = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _canonname, sockaddr in results:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def checked_addresses(host: str, port: int) -> list[IPAddress]:
    """The addresses to connect to for `host`; AddressNotAllowed when any of them is not public (unless the
    settings allow private hosts). A host with one public and one private address is refused as a whole."""
    addresses = resolve(host, port)
    if not addresses:
        raise OSError(f"{host} has no address")
    if not private_hosts_allowed():
        for address in addresses:
            if not address_is_public(address):
                raise AddressNotAllowed(f"{host} resolves to {address}, which is not a public address")
    return addresses


def _valid_host_name(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return True
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    labels = ascii_host.rstrip(".").split(".")
    return bool(labels) and all(_LABEL.match(label) for label in labels)


def _split(url: str) -> SplitResult:
    """The parts of a syntactically acceptable webhook URL; ValidationFailed on "url" otherwise."""
    if not url:
        raise ValidationFailed.for_field("url", _("Enter the address that receives the webhooks."))
    if len(url) > URL_MAX:
        raise ValidationFailed.for_field("url", _("Keep the address to %(n)s characters or fewer.") % {"n": URL_MAX})
    if any(ch.isspace() for ch in url):
        raise ValidationFailed.for_field("url", _("An address cannot contain spaces."))
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValidationFailed.for_field("url", _("Enter a valid address such as https://example.com/hooks.")) from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ValidationFailed.for_field("url", _("Use an address starting with https:// (or http://)."))
    if scheme == "http" and not http_allowed():
        raise ValidationFailed.for_field("url", _("Use an https:// address; this installation refuses plain http."))
    if parts.username is not None or parts.password is not None:
        raise ValidationFailed.for_field(
            "url", _("Put no user name or password in the address; receivers check the signature instead.")
        )
    host = parts.hostname or ""
    if not host or not _valid_host_name(host):
        raise ValidationFailed.for_field("url", _("Enter a valid address such as https://example.com/hooks."))
    if port == 0:
        raise ValidationFailed.for_field("url", _("Enter a valid address such as https://example.com/hooks."))
    return parts


def default_port(parts: SplitResult) -> int:
    return parts.port or (443 if parts.scheme.lower() == "https" else 80)


def check_url_syntax(url: str) -> None:
    """The checks that need no network (scheme, https rule, host syntax); used again before every attempt."""
    _split(url)


def validate_webhook_url(url: str) -> str:
    """Check a URL a user entered and return it trimmed; ValidationFailed on "url" with a clear message.

    Unless private hosts are allowed, the host must resolve, and only to public addresses.
    """
    url = (url or "").strip()
    parts = _split(url)
    if private_hosts_allowed():
        return url
    host = parts.hostname or ""
    try:
        checked_addresses(host, default_port(parts))
    except AddressNotAllowed:
        raise ValidationFailed.for_field(
            "url",
            _(
                "“%(host)s” points to a private, loopback or reserved network address; webhooks may only call "
                "public addresses."
            )
            % {"host": host},
        ) from None
    except (OSError, UnicodeError):
        raise ValidationFailed.for_field(
            "url", _("The host “%(host)s” could not be found; check the address.") % {"host": host}
        ) from None
    return url
