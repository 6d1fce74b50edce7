"""Through nginx configured as docs/deploy.md says, the page stays on SSE, and nginx's
access log keeps no visitor token; behind a buffering nginx, messages arrive from the
first second (long-poll serves while SSE proves itself), and through a good one the
long-poll stops at the hand-over."""

import re
import time

import pytest
import requests
from playwright.sync_api import expect

from devtone.domain import conversations
from tests.browser.conftest import FAST_TIMINGS
from tests.browser.pages import (
    FIRST,
    api_post,
    documented_access_log,
    documented_api_location,
    expect_shown_once_in_order,
    shown,
    start_chat,
)

pytestmark = pytest.mark.browser

# nginx buffering the stream, as a proxy does when devtone's `X-Accel-Buffering: no` is
# ignored; buffering alone still lets small writes through, so gzip, which holds every byte
# until its buffer fills, makes sure the stream's `retry` and `hello` never arrive, while
# whole answers (long-poll's JSON) pass as they end.
BUFFERING_NGINX = """
    proxy_buffering on;
    proxy_ignore_headers X-Accel-Buffering;
    gzip on;
    gzip_types text/event-stream application/json;
    gzip_proxied any;
    gzip_min_length 0;
"""
# Each request with when it started ($msec is when it was logged, after $request_time).
TIMED_ACCESS_LOG = """
    log_format timed '$msec $request_time "$request" $status';
    access_log /var/log/nginx/access.log timed;
"""
# The server's own hello deadline, not the tests' short one: SSE gets the full 10 s.
REAL_HELLO_DEADLINE = {**FAST_TIMINGS, "DEVTONE_SSE_HELLO_TIMEOUT": "10"}


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


def test_the_documented_access_log_keeps_no_token_of_a_stream_a_long_poll_or_a_reset_link(
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

    # A password reset link carries its token in the path (unknown here: the log is the same).
    reset_token = "Zk3v9Qw2_xY8-abcdefghijklmnopqrstuvwxyz0123"
    opened = requests.get(f"{proxy.url}/dashboard/reset/{reset_token}", timeout=10)
    assert opened.status_code == 404

    # nginx may write a line a moment after the client has the whole answer.
    for logged in (f"{path}/events", f"{path}/messages", "/dashboard/reset/"):
        _wait_for_logged(proxy, logged)
    log = proxy.access_log()
    assert f'"GET {path}/events HTTP/1.1" 200' in log
    assert f'"GET {path}/messages HTTP/1.1" 200' in log
    assert '"GET /dashboard/reset/<redacted> HTTP/1.1" 404' in log
    assert visitor.token not in log and reset_token not in log
    assert "token=" not in log


def test_behind_a_buffering_nginx_a_reply_1_s_after_the_page_opened_is_shown_within_3_s(
    app, live_server, nginx, new_page, agent
):
    server = live_server(**REAL_HELLO_DEADLINE)
    proxy = nginx(server).configure(BUFFERING_NGINX)
    page = new_page()
    visitor = start_chat(page, proxy.url, "Ada", state="connecting", tier="sse")
    expect_shown_once_in_order(page, [FIRST])

    opened = time.monotonic()
    page.reload()
    time.sleep(max(0.0, opened + 1 - time.monotonic()))
    with app.app_context():
        conversations.post_message(visitor["conversationId"], agent.identity, "Here to help")
    remaining_ms = (opened + 3 - time.monotonic()) * 1000
    reply = page.locator(
        "#messages li.message .message__body", has_text=re.compile("^Here to help$")
    )
    expect(reply).to_have_count(1, timeout=remaining_ms)
    # Long-poll brought it: SSE's hello is still stuck in nginx's buffer, and the indicator
    # says so without flickering through Polling first.
    indicator = page.locator("#connection")
    expect(indicator).to_have_attribute("data-state", "connecting", timeout=1)
    expect(indicator).to_have_attribute("data-tier", "sse", timeout=1)
    # At SSE's deadline the page polls on, as before, and loses nothing.
    expect(indicator).to_have_attribute("data-state", "polling", timeout=15_000)
    expect(indicator).to_have_attribute("data-tier", "longpoll")
    assert "SSE timeout, falling back to long-poll" in page.console
    api_post(proxy.url, visitor, "after the deadline")
    expect(page.locator("#messages .message__body", has_text="after the deadline")).to_have_count(1)
    seen = shown(page)  # the agent's reply brought a status entry (joined) along
    assert [seq for seq, _ in seen] == list(range(1, len(seen) + 1)), seen


def test_through_a_good_nginx_long_poll_stops_at_the_hand_over_and_nothing_shows_twice(
    live_server, nginx, new_page
):
    server = live_server(**REAL_HELLO_DEADLINE)
    proxy = nginx(server).configure(
        api_location=documented_api_location(), access_log=TIMED_ACCESS_LOG
    )
    page = new_page()
    handed_over = []
    page.on(
        "console",
        lambda message: (
            message.text.startswith("Head start over - SSE said hello")
            and handed_over.append(time.time())
        ),
    )
    visitor = start_chat(page, proxy.url, "Ada")
    bodies = [
        FIRST,
        *(api_post(proxy.url, visitor, f"after the hand-over {n}")["body"] for n in range(5)),
    ]
    expect_shown_once_in_order(page, bodies)
    assert len(handed_over) == 1, page.console
    page.close()

    waits = "/messages?"
    _wait_for_logged(proxy, "/events?")  # the stream ends once nginx sees the page gone
    started = [
        float(logged) - float(took)
        for logged, took, *request in (line.split() for line in proxy.access_log().splitlines())
        if waits in " ".join(request) and "wait=" in " ".join(request)
    ]
    assert all(start < handed_over[0] for start in started), (handed_over, proxy.access_log())


def _wait_for_logged(proxy, path, seconds=15):
    """Wait for nginx to log `path`: a stream once it has seen the client go (at the next
    heartbeat), any request a moment after its answer."""
    deadline = time.monotonic() + seconds
    while path not in proxy.access_log():
        assert time.monotonic() < deadline, f"{path} never logged:\n{proxy.access_log()}"
        time.sleep(0.1)
