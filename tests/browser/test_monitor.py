"""The admins' monitor in Chromium: live figures and connection events; agents are refused."""

import uuid

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.conftest import FAST_TIMINGS
from tests.browser.dashboard_pages import sign_in
from tests.conftest import ON_SQLITE
from tests.live.conftest import SseReader

pytestmark = [pytest.mark.browser, ON_SQLITE]  # what it looks at is the same on both stacks


def figure(page, name):
    return page.locator(f"[data-figure='{name}']")


def test_an_admin_sees_the_figures_change_when_a_visitor_streams_and_posts(
    live_server, new_page, admin, visitor
):
    server = live_server(**FAST_TIMINGS)
    page = new_page()
    sign_in(page, server.url, admin)
    page.click("a[href='/dashboard/monitor']")  # linked from the dashboard's header
    expect(page.locator("#connection")).to_have_attribute("data-tier", "sse", timeout=15_000)
    expect(figure(page, "open_sse")).to_have_text("0")
    expect(figure(page, "messages_posted")).to_have_text("0")

    reader = SseReader(server.url, visitor.id, visitor.token)
    try:
        reader.wait(lambda r: r.hello is not None)
        expect(figure(page, "open_sse")).to_have_text("1", timeout=10_000)
        events = page.locator("#connection-events")
        expect(events).to_contain_text("open", timeout=10_000)
        expect(events).to_contain_text(str(visitor.id))

        answer = requests.post(
            f"{server.url}/api/conversations/{visitor.id}/messages",
            json={"body": "Where is my order?", "client_id": str(uuid.uuid4())},
            headers=visitor.headers,
            timeout=10,
        )
        assert answer.status_code == 201
        expect(figure(page, "messages_posted")).to_have_text("1", timeout=10_000)
        expect(figure(page, "delivered_sse")).to_have_text("1", timeout=10_000)
        expect(figure(page, "latency")).not_to_have_text("—", timeout=10_000)
    finally:
        reader.close()
    expect(figure(page, "open_sse")).to_have_text("0", timeout=10_000)
    expect(page.locator("#connection-events")).to_contain_text("client_gone")
    assert visitor.token not in page.content()
    assert page.errors == []


def test_an_agent_is_refused_the_monitor_with_403(live_server, new_page, agent):
    server = live_server(**FAST_TIMINGS)
    page = new_page()
    sign_in(page, server.url, agent)
    expect(page.locator("a[href='/dashboard/monitor']")).to_have_count(0)
    answer = page.goto(f"{server.url}/dashboard/monitor")
    assert answer.status == 403
    assert page.request.get(f"{server.url}/api/monitor/snapshot").status == 403


def test_the_monitor_asks_an_anonymous_visitor_to_sign_in(live_server, new_page):
    server = live_server(**FAST_TIMINGS)
    page = new_page()
    page.goto(f"{server.url}/dashboard/monitor")
    assert "/dashboard/login" in page.url
