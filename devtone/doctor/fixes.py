"""What to change, for each problem the doctor finds: in nginx, Apache, a CDN, devtone's
settings or the server. The words are translated when shown; the configuration is code
and never is."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from devtone.errors import N_

#: Who a fix is for, as the page and the command line name them.
WHERE = {
    "nginx": "nginx",
    "apache": "Apache",
    "cdn": N_("CDN (e.g. Cloudflare)"),
    "devtone": "devtone",
    "server": N_("The server"),
}


@dataclass(frozen=True, slots=True)
class Fix:
    """One change: `where` it is made, what to do (an English template), and the lines of
    configuration to write, if any."""

    where: str
    text: str
    config: str | None = None

    def render(self, translate: Callable[[str], str], values: Mapping[str, Any]) -> dict[str, Any]:
        """The fix as JSON in one language; `values` fill the text's placeholders."""
        return {
            "for": self.where,
            "label": translate(WHERE[self.where]),
            "text": translate(self.text).format(**values),
            "config": self.config,
        }


_NGINX_API = """location /api/ {
    proxy_pass http://devtone;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_buffering off;
    proxy_cache off;
    gzip off;
    proxy_read_timeout 1h;
    proxy_send_timeout 1h;
}"""

ROUTE_API = (
    Fix(
        "nginx",
        N_("Send every path under /api/ to devtone, as docs/deploy.md shows."),
        _NGINX_API,
    ),
    Fix(
        "apache",
        N_("Send /api/ to devtone (mod_proxy and mod_proxy_http)."),
        "ProxyPass /api/ http://127.0.0.1:8000/api/ flushpackets=on timeout=3600\n"
        "ProxyPassReverse /api/ http://127.0.0.1:8000/api/",
    ),
    Fix(
        "cdn",
        N_(
            "Let /api/* through to the origin untouched: no cache, no page rules that "
            "answer in its place, no login or challenge page in front of it."
        ),
    ),
)

UNBUFFER = (
    Fix(
        "nginx",
        N_(
            "Turn buffering and compression off where devtone's streams pass, and do not "
            "ignore the X-Accel-Buffering header devtone sends (remove any "
            "proxy_ignore_headers X-Accel-Buffering)."
        ),
        "location /api/ {\n    proxy_buffering off;\n    proxy_cache off;\n    gzip off;\n}",
    ),
    Fix(
        "apache",
        N_("Pass each event on as it comes (flushpackets), and keep mod_deflate off /api/."),
        "ProxyPass /api/ http://127.0.0.1:8000/api/ flushpackets=on\n"
        'SetEnvIf Request_URI "^/api/" no-gzip no-brotli',
    ),
    Fix(
        "cdn",
        N_(
            "Bypass the cache for /api/* (Cloudflare: a Cache Rule with Bypass cache) and "
            "turn off response buffering for it (Cloudflare Enterprise: Response Buffering "
            "off), or serve /api/ from a host name the CDN does not proxy."
        ),
    ),
    Fix(
        "devtone",
        N_(
            "If the proxy is not yours to change, skip SSE: browsers then use long-poll at "
            "once instead of waiting for hello."
        ),
        "DEVTONE_TIERS=longpoll,poll",
    ),
)

UNCOMPRESS = (
    Fix(
        "nginx",
        N_("Do not compress text/event-stream: gzip holds events until its buffer fills."),
        "location /api/ {\n    gzip off;\n}\n# or drop text/event-stream from gzip_types",
    ),
    Fix(
        "apache",
        N_("Keep mod_deflate (and mod_brotli) off devtone's streams."),
        'SetEnvIf Request_URI "^/api/" no-gzip no-brotli',
    ),
    Fix(
        "cdn",
        N_(
            "Turn compression off for /api/* (Cloudflare: a Compression Rule that disables "
            "it for text/event-stream)."
        ),
    ),
)

READ_TIMEOUT = (
    Fix(
        "nginx",
        N_(
            "Let a quiet request live longer than devtone's heartbeat and long-poll wait: "
            "nginx's default read timeout is 60 s."
        ),
        "location /api/ {\n    proxy_read_timeout 1h;\n    proxy_send_timeout 1h;\n}",
    ),
    Fix(
        "apache",
        N_("Raise the proxy's timeout above the heartbeat and the long-poll wait."),
        "ProxyPass /api/ http://127.0.0.1:8000/api/ flushpackets=on timeout=3600",
    ),
    Fix(
        "cdn",
        N_(
            "A CDN cuts a response that stays silent past its idle timeout (Cloudflare: "
            "100 s); keep it above the heartbeat and the long-poll wait."
        ),
    ),
    Fix(
        "devtone",
        N_(
            "Or make devtone speak more often than the proxy's timeout: a shorter heartbeat "
            "and long-poll wait (seconds)."
        ),
        "DEVTONE_SSE_HEARTBEAT=10\nDEVTONE_LONGPOLL_WAIT=20",
    ),
)

CLOCK = (
    Fix(
        "server",
        N_(
            "Keep the server's clock synchronised (NTP), and the clock of the computer "
            "the doctor ran on."
        ),
        "timedatectl set-ntp true\ntimedatectl timesync-status",
    ),
)

HTTP2 = (
    Fix(
        "nginx",
        N_("Serve HTTPS with HTTP/2 (nginx 1.25.1 and later; older: listen 443 ssl http2)."),
        "listen 443 ssl;\nhttp2 on;",
    ),
    Fix("apache", N_("Enable mod_http2 and offer HTTP/2 first."), "Protocols h2 http/1.1"),
    Fix("cdn", N_("CDNs speak HTTP/2 and HTTP/3 to browsers: keep them on.")),
)
