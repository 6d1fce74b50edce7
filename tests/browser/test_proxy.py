"""Through nginx configured as docs/deploy.md says, the page stays on SSE."""

import time

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import FAST_TIMINGS
from tests.browser.pages import (
    FIRST,
    api_post,
    documented_api_location,
    expect_shown_once_in_order,
    start_chat,
)

pytestmark = pytest.mark.browser


def test_through_the_documented_nginx_location_the_page_stays_live_on_sse(
    live_server, nginx, new_page
):
    server = live_server(**FAST_TIMINGS)
    proxy = nginx(server).configure(api_location=documented_api_location())
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
