"""Through nginx configured as docs/deploy.md says, the page stays on SSE, and nginx's
access log keeps no visitor token."""

import time

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.conftest import FAST_TIMINGS
from tests.browser.pages import (
    FIRST,
    api_post,
    documented_access_log,
    documented_api_location,
    expect_shown_once_in_order,
    start_chat,
)

pytestmark = pytest.mark.browser


def test_through_the_documented_nginx_location_the_page_stays_live_on_sse(
    live_server, nginx, new_page
):
    server = live_server(**FAST_TIMINGS)
    proxy = nginx(server).configure(
        api_location=documented_api_location(), access_log=documented_access_log()
    )
    page = new_page()
    visitor = start_chat(page, proxy.url, "Ada")
    bodies = [
        FIRST,
        *(api_post(proxy.url, visitor, f"through nginx {n}")["body"] for n in range(3)),
    ]
    expect_shown_once_in_order(page, bodies)
    # Several heartbeats and hello timeouts later, still on SSE: nothing held the stream back.
    time.sleep(3)
    expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    expect(page.locator("#connection")).to_have_attribute("data-tier", "sse")
    assert not any("SSE timeout" in line for line in page.console)
    # The page really went through the proxy (open streams are logged only when they end).
    assert proxy.access_count("/api/realtime/negotiate") >= 1
    page.close()
    _wait_for_logged(proxy, f"/api/conversations/{visitor['conversationId']}/events")
    assert visitor["token"] not in proxy.access_log()


def test_the_documented_access_log_keeps_no_token_of_a_stream_or_a_long_poll(
    live_server, nginx, visitor
):
    server = live_server(**FAST_TIMINGS)
    proxy = nginx(server).configure(
        api_location=documented_api_location(), access_log=documented_access_log()
    )
    path = f"/api/conversations/{visitor.id}"
    # The token in the query string, as EventSource and the long-poll tier send it.
    with requests.get(
        f"{proxy.url}{path}/events", params={"token": visitor.token}, stream=True, timeout=10
    ) as stream:
        assert stream.status_code == 200
        assert any(line == b"event: hello" for line in stream.iter_lines())
    long_poll = requests.get(
        f"{proxy.url}{path}/messages",
        params={"after": 0, "wait": 1, "token": visitor.token},
        timeout=10,
    )
    assert long_poll.status_code == 200

    # nginx may write a line a moment after the client has the whole answer.
    for logged in (f"{path}/events", f"{path}/messages"):
        _wait_for_logged(proxy, logged)
    log = proxy.access_log()
    assert f'"GET {path}/events HTTP/1.1" 200' in log
    assert f'"GET {path}/messages HTTP/1.1" 200' in log
    assert visitor.token not in log
    assert "token=" not in log


def _wait_for_logged(proxy, path, seconds=15):
    """Wait for nginx to log `path`: a stream once it has seen the client go (at the next
    heartbeat), any request a moment after its answer."""
    deadline = time.monotonic() + seconds
    while path not in proxy.access_log():
        assert time.monotonic() < deadline, f"{path} never logged:\n{proxy.access_log()}"
        time.sleep(0.1)
