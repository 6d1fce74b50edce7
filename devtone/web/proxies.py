"""Forwarding headers, believed only from the proxies the operator named.

`X-Forwarded-For` is a header anyone can send. Behind nginx it carries the client's
address, but a client that reaches gunicorn directly (a bind to 0.0.0.0, a second
interface) could write any address there and pass every per-address limit. So the
headers are read only when the connection itself comes from a trusted proxy
(DEVTONE_TRUSTED_PROXIES); any other request is judged by its socket address.
"""

from __future__ import annotations

from collections.abc import Iterable
from ipaddress import IPv4Network, IPv6Network, ip_address
from typing import Any

from werkzeug.middleware.proxy_fix import ProxyFix

Network = IPv4Network | IPv6Network


class TrustedProxies:
    """WSGI middleware: werkzeug's ProxyFix for requests from `networks`, nothing for others."""

    def __init__(self, app: Any, hops: int, networks: Iterable[Network]):
        self.app = app
        self.networks = tuple(networks)
        # X-Forwarded-For gives the client's address, X-Forwarded-Proto the scheme (https
        # for secure cookies and absolute URLs), each as `hops` proxies appended them.
        self.forwarded = ProxyFix(app, x_for=hops, x_proto=hops)

    def trusts(self, address: str | None) -> bool:
        """Whether a connection from `address` comes from one of the trusted proxies."""
        try:
            peer = ip_address((address or "").split("%", 1)[0])
        except ValueError:  # a Unix socket, or no address at all
            return False
        if getattr(peer, "ipv4_mapped", None) is not None:
            peer = peer.ipv4_mapped  # ::ffff:10.0.0.1 on a dual-stack socket
        return any(peer in network for network in self.networks)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if self.trusts(environ.get("REMOTE_ADDR")):
            return self.forwarded(environ, start_response)
        return self.app(environ, start_response)
