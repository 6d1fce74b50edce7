"""The security headers of every response: pages, API, streams, static files and errors.

The one place that decides them, so no view can forget one. Pages load only devtone's own
files (no inline script or style anywhere), and only /embed may be framed, by the sites in
DEVTONE_EMBED_ORIGINS: the widget's iframe on a customer's website.
"""

from __future__ import annotations

from flask import Flask, current_app, request
from werkzeug.wrappers import Response

#: The page the widget frames on other sites (see web/widget.py).
EMBED_ENDPOINT = "widget.embed"
#: A sent file (web/api_attachments.py): whatever it holds, it loads nothing and runs
#: nothing, even opened on its own in a tab of devtone's origin.
ATTACHMENT_ENDPOINT = "api_attachments.attachment_file"
ATTACHMENT_POLICY = "default-src 'none'; sandbox; frame-ancestors 'none'"

# Everything from devtone's origin only; no 'unsafe-inline' or 'unsafe-eval' anywhere. The
# dashboard's beep is a WebAudio oscillator (no media file), and pages have no images but
# the favicon: with a count, the dashboard draws its badge on a canvas and sets the icon
# to that canvas's data: URL (a raster image runs nothing; img-src data: allows no script).
# Sent images are shown from blob: URLs the page makes of files it fetched with its own
# credentials (web/api_attachments.py); an image, from blob: or not, runs no script.
# base-uri 'none': an injected <base> cannot redirect the module scripts' relative URLs.
_POLICY = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
)

#: Full referrers to devtone itself (Flask-WTF's HTTPS check of agents' POSTs needs them),
#: nothing to other sites: a link in a message learns neither the page nor /embed's
#: ?origin=. `no-referrer` would make every agent's POST fail that check behind HTTPS.
REFERRER_POLICY = "same-origin"


def content_security_policy(frame_ancestors: tuple[str, ...]) -> str:
    """The CSP of a response that only `frame_ancestors` may frame."""
    return "; ".join([*_POLICY, "frame-ancestors " + " ".join(frame_ancestors)])


def init_app(app: Flask) -> None:
    """Add devtone's security headers to every response of `app`."""

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        headers = response.headers
        if request.endpoint == EMBED_ENDPOINT:
            ancestors = ("'self'", *current_app.config["EMBED_ORIGINS"])
        else:
            ancestors = ("'none'",)
            # For browsers older than CSP frame-ancestors: the dashboard above all.
            headers["X-Frame-Options"] = "DENY"
        if request.endpoint == ATTACHMENT_ENDPOINT:
            headers["Content-Security-Policy"] = ATTACHMENT_POLICY
        else:
            headers["Content-Security-Policy"] = content_security_policy(ancestors)
        headers["X-Content-Type-Options"] = "nosniff"
        # A page whose own address holds a token (?token=) never sends it on as a Referer.
        headers.setdefault("Referrer-Policy", REFERRER_POLICY)
        return response
