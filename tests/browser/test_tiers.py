"""The three connection scenarios and the outage, in headless Chromium, timings shortened."""

import threading
import time

import pytest
from playwright.sync_api import expect

from devtone.domain import conversations
from devtone.domain.visitors import Visitor
from tests.browser.conftest import FAST_TIMINGS
from tests.browser.pages import (
    FIRST,
    api_post,
    documented_api_location,
    expect_shown_once_in_order,
    shown,
    start_chat,
    type_message,
)

pytestmark = pytest.mark.browser

# A proxy that accepts the SSE request and then says nothing: nginx compressing the stream
# (gzip holds everything, headers included, until its buffer fills) with buffering on and
# devtone's X-Accel-Buffering: no ignored.
BUFFERING_PROXY = """
    proxy_buffering on;
    proxy_ignore_headers X-Accel-Buffering;
    gzip on;
    gzip_types text/event-stream application/json;
    gzip_proxied any;
    gzip_min_length 0;
"""
# …and one that also cuts any response slower than a second: long-poll dies with 504.
IMPATIENT_PROXY = BUFFERING_PROXY + "    proxy_read_timeout 1s;\n"


def test_normal_the_page_is_live_on_sse_and_messages_arrive_without_reload(live_server, new_page):
    server = live_server(**FAST_TIMINGS)
    page = new_page()
    visitor = start_chat(page, server.url, "Ada")
    expect(page.locator("#connection")).to_have_text("Live")
    bodies = [FIRST, *(api_post(server.url, visitor, f"agent says {n}")["body"] for n in range(3))]
    expect_shown_once_in_order(page, bodies)
    assert page.errors == []


def test_sse_swallowed_by_a_proxy_falls_back_to_long_poll_and_loses_nothing(
    live_server, nginx, new_page
):
    server = live_server(**FAST_TIMINGS)
    proxy = nginx(server).configure(BUFFERING_PROXY)
    page = new_page()
    visitor = start_chat(page, proxy.url, "Ada", state="polling", tier="longpoll")
    assert "SSE timeout, falling back to long-poll" in page.console
    expect(page.locator("#connection")).to_contain_text("Polling")
    bodies = [
        FIRST,
        *(api_post(server.url, visitor, f"via long-poll {n}")["body"] for n in range(5)),
    ]
    expect_shown_once_in_order(page, bodies)
    type_message(page, "typed on long-poll")
    expect_shown_once_in_order(page, [*bodies, "typed on long-poll"])


def test_with_long_poll_cut_too_the_page_ends_on_poll_and_loses_nothing(
    live_server, nginx, new_page
):
    server = live_server(**FAST_TIMINGS)
    proxy = nginx(server).configure(IMPATIENT_PROXY)
    page = new_page()
    visitor = start_chat(page, proxy.url, "Ada", state="polling", tier="poll")
    assert "SSE timeout, falling back to long-poll" in page.console
    bodies = [FIRST, *(api_post(server.url, visitor, f"via poll {n}")["body"] for n in range(3))]
    # One poll interval is 1 s here; the default expect timeout (5 s) is several.
    expect_shown_once_in_order(page, bodies, timeout=5_000)


def test_when_sse_comes_back_the_page_climbs_to_live_and_the_lower_tier_stops(
    live_server, nginx, new_page
):
    server = live_server(**FAST_TIMINGS)
    proxy = nginx(server).configure(BUFFERING_PROXY)
    page = new_page()
    visitor = start_chat(page, proxy.url, "Ada", state="polling", tier="longpoll")
    before = [FIRST, *(api_post(server.url, visitor, f"before {n}")["body"] for n in range(3))]
    expect_shown_once_in_order(page, before)

    # Keep posting while the proxy is fixed and the page switches tiers.
    during: list[str] = []
    stop = threading.Event()

    def post_steadily():
        n = 0
        while not stop.is_set() and n < 40:
            during.append(api_post(server.url, visitor, f"during {n}")["body"])
            n += 1
            time.sleep(0.15)

    poster = threading.Thread(target=post_steadily)
    poster.start()
    try:
        proxy.configure(api_location=documented_api_location())
        expect(page.locator("#connection")).to_have_attribute("data-state", "live", timeout=20_000)
        expect(page.locator("#connection")).to_have_attribute("data-tier", "sse")
    finally:
        stop.set()
        poster.join()
    assert "Polling stopped - SSE reconnected" in page.console
    assert any(line.startswith("Retrying connection in ") for line in page.console)
    after = api_post(server.url, visitor, "after")["body"]
    expect_shown_once_in_order(page, [*before, *during, after])

    # The lower tier really stopped: no long-poll request reaches the proxy any more.
    requests_then = proxy.access_count("/messages?")
    time.sleep(2)
    assert proxy.access_count("/messages?") == requests_then


def test_an_outage_shows_offline_keeps_typed_messages_and_delivers_all_once(
    app, live_server, new_page
):
    server = live_server(**FAST_TIMINGS)
    page = new_page()
    visitor = start_chat(page, server.url, "Ada")
    first = api_post(server.url, visitor, "before the outage")["body"]
    expect_shown_once_in_order(page, [FIRST, first])

    server.stop()
    expect(page.locator("#connection")).to_have_attribute("data-state", "offline", timeout=15_000)
    expect(page.locator("#connection")).to_contain_text("Offline")
    type_message(page, "typed offline 1")
    type_message(page, "typed offline 2")
    expect(page.locator("#messages li.message--pending")).to_have_count(2)

    server.start()
    # The other side writes as soon as the server is back, maybe before the page is.
    agent = api_post(server.url, visitor, "written while the page was away")["body"]
    expect(page.locator("#connection")).to_have_attribute("data-state", "live", timeout=20_000)
    expect(page.locator("#messages li.message--pending")).to_have_count(0, timeout=15_000)
    expect_shown_once_in_order(page, [FIRST, first, agent, "typed offline 1", "typed offline 2"])
    bodies = [body for _, body in shown(page)]
    assert bodies.index("typed offline 1") < bodies.index("typed offline 2")

    # The other side sees the same log: each message stored once, in the typed order.
    with app.app_context():
        log = conversations.messages_after(visitor["conversationId"], Visitor(visitor["token"]), 0)
    stored = [m["body"] for m in log.messages]
    assert sorted(stored) == sorted([FIRST, first, agent, "typed offline 1", "typed offline 2"])
    assert stored.index("typed offline 1") < stored.index("typed offline 2")
