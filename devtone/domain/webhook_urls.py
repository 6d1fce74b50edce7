"""Where webhooks may go: http(s) URLs of public hosts only, against server-side request
forgery (an admin's endpoint must not make devtone call into its own network: a cloud's
metadata service, a database's admin port). Checked when an endpoint is registered and
again before every delivery, on the addresses the name resolves to then (DNS can change),
and the delivery connects to the address checked. DEVTONE_WEBHOOK_ALLOW_PRIVATE=1 lifts
the rule (a receiver on the same network; the tests' loopback receiver)."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from devtone.errors import Invalid

URL_MAX = 2048
SCHEMES = ("http", "https")


@dataclass(frozen=True)
class Target:
    """A checked URL: its parts, and the address a delivery connects to."""

    url: str
    scheme: str
    host: str
    port: int
    path: str  # with the query
    address: str


def clean_url(raw: object) -> SplitResult:
    """An absolute http(s) URL with a host, at most URL_MAX characters, or Invalid."""
    if not isinstance(raw, str) or not raw.strip():
        raise Invalid("Give the endpoint's URL.", field="url", code="invalid_url")
    url = raw.strip()
    if len(url) > URL_MAX:
        raise Invalid(
            "The URL is longer than {count} characters.", field="url", code="invalid_url",
            count=URL_MAX,
        )  # fmt: skip
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port out of range
    except ValueError:
        raise Invalid("This is not a valid URL.", field="url", code="invalid_url") from None
    if parts.scheme not in SCHEMES or not parts.hostname or not url.isascii():
        raise Invalid(
            "The URL must start with http:// or https:// and name a host.",
            field="url",
            code="invalid_url",
        )
    return parts


def check(raw: object, allow_private: bool) -> Target:
    """The URL, checked, with the address to connect to: Invalid (`private_address`) if
    the host is, or resolves to, an address that is not public, unless `allow_private`;
    Invalid (`unresolvable_host`) if the name resolves to nothing."""
    parts = clean_url(raw)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = _resolve(host, port)
    if not allow_private:
        for address in addresses:
            if not is_public(address):
                raise Invalid(
                    "The URL's host is a private, loopback or reserved address ({address}).",
                    field="url",
                    code="private_address",
                    address=address,
                )
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(parts.geturl(), parts.scheme, host, port, path, addresses[0])


def is_public(address: str) -> bool:
    """Whether `address` is a public unicast address (an IPv6 one carrying an IPv4 address,
    mapped or 6to4, judged as the IPv4 address it carries)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.is_site_local:  # fec0::/10: deprecated, but routed inside some networks
            return False
        # An IPv4 address carried in IPv6 (mapped, or 6to4's 2002::/16) is judged as itself.
        ip = ip.ipv4_mapped or ip.sixtofour or ip
    return ip.is_global and not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def _resolve(host: str, port: int) -> list[str]:
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        found = []
    addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
    if not addresses:
        raise Invalid(
            "The URL's host cannot be found ({host}).",
            field="url",
            code="unresolvable_host",
            host=host,
        )
    return addresses
