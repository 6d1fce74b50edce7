"""A customer's website on another loopback origin, for the widget tests.

devtone listens on http://127.0.0.1:<port>; the host site is http://localhost:<other
port>: another origin, as a real site on another domain would be.
"""

from __future__ import annotations

import functools
import http.server
import re
import threading
from pathlib import Path

import requests

# Hostile on purpose: global CSS that would wreck any widget styled by the page's rules,
# and globals of the page's own that a careless loader could clobber.
HOST_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Shop</title>
<style>
  * {{ color: rgb(255, 0, 0) !important; font-size: 31px !important; box-sizing: content-box; }}
  button, iframe, div {{ display: inline !important; border: 9px solid lime !important; }}
  #product {{ background: rgb(1, 2, 3); }}
</style>
<script>
  window.shopCart = ["socks"];
  window.__keysBefore = Object.keys(window);
  {before_loader}
</script>
</head><body>
<h1 id="product">Blue socks</h1>
<script src="{devtone}/widget.js" {attributes} async></script>
</body></html>
"""


class HostSite:
    """Serves host pages from a folder on http://localhost:<port>."""

    def __init__(self, directory: Path):
        self.directory = directory
        handler = functools.partial(_QuietHandler, directory=str(directory))
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.port = self.server.server_address[1]
        self.origin = f"http://localhost:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def page(self, name: str, devtone: str, attributes: str = "", before_loader: str = "") -> str:
        """Write a host page that loads devtone's widget; return its URL."""
        html = HOST_PAGE.format(devtone=devtone, attributes=attributes, before_loader=before_loader)
        (self.directory / name).write_text(html)
        return f"{self.origin}/{name}"

    def raw_page(self, name: str, html: str) -> str:
        """Write any page; return its URL."""
        (self.directory / name).write_text(html)
        return f"{self.origin}/{name}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


class AgentSession:
    """An agent signed in over HTTP (cookie + CSRF token), answering from outside the page."""

    def __init__(self, url: str, account):
        self.url = url
        self.session = requests.Session()
        form = self.session.get(f"{url}/dashboard/login", timeout=10).text
        self.csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
        signed = self.session.post(
            f"{url}/dashboard/login",
            data={"email": account.email, "password": account.password, "csrf_token": self.csrf},
            allow_redirects=False,
            timeout=10,
        )
        assert signed.status_code == 302, signed.text

    def conversation_of(self, visitor_name: str) -> int:
        """The id of the (only) conversation of the visitor with this name."""
        listed = self.session.get(f"{self.url}/api/dashboard/snapshot", timeout=10).json()
        (found,) = [
            c["id"] for c in listed["conversations"] if c["visitor"]["name"] == visitor_name
        ]
        return found

    def close(self, conversation_id: int) -> dict:
        answer = self.session.post(
            f"{self.url}/api/conversations/{conversation_id}/close",
            headers={"X-CSRFToken": self.csrf},
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
        return answer.json()["conversation"]

    def say(self, conversation_id: int, body: str) -> dict:
        import uuid

        answer = self.session.post(
            f"{self.url}/api/conversations/{conversation_id}/messages",
            json={"body": body, "client_id": str(uuid.uuid4())},
            headers={"X-CSRFToken": self.csrf},
            timeout=10,
        )
        assert answer.status_code == 201, answer.text
        return answer.json()["message"]
