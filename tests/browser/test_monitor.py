"""The admins' monitor in Chromium: live figures, the last ten minutes' charts and
connection events; agents are refused."""

import re
import uuid

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.conftest import FAST_TIMINGS
from tests.browser.dashboard_pages import force_tier, sign_in
from tests.conftest import ON_SQLITE
from tests.live.conftest import SseReader
from tests.live.drill import LongPollDrillReader

pytestmark = [pytest.mark.browser, ON_SQLITE]  # what it looks at is the same on both stacks


def figure(page, name):
    return page.locator(f"[data-figure='{name}']")


def chart(page, name):
    """The `<svg>` of chart `name`: its points drawn, its text alternative."""
    return page.locator(f"[data-chart='{name}'] svg")


def chart_now(page, name):
    """What chart `name` shows as its current figures."""
    return page.locator(f"[data-chart='{name}'] [data-chart-now]")


def drawn_points(page, name) -> int:
    return int(chart(page, name).get_attribute("data-points") or 0)


def post(server, visitor, body):
    answer = requests.post(
        f"{server.url}/api/conversations/{visitor.id}/messages",
        json={"body": body, "client_id": str(uuid.uuid4())},
        headers=visitor.headers,
        timeout=10,
    )
    assert answer.status_code == 201


#: "highest …" in each language: what a chart's text alternative says of the span's peak.
HIGHEST = {"en-US": "highest", "pt-BR": "máximo"}
#: A figure above zero, as either language writes it ("0.4", "0,4", "3", "12.5").
ABOVE_ZERO = r"(?:[1-9][\d.,]*|0[.,]\d*[1-9])"


@pytest.mark.parametrize(
    ("tier", "theme", "locale"), [("sse", "light", "en-US"), ("longpoll", "dark", "pt-BR")]
)
def test_the_charts_draw_the_streams_deliveries_and_latency_of_both_tiers_as_they_come(
    live_server, new_page, admin, start_visitor, tier, theme, locale
):
    server = live_server(**FAST_TIMINGS)
    page = new_page(locale=locale, color_scheme=theme)
    sign_in(page, server.url, admin)
    force_tier(page, tier)  # the monitor's own feed: on SSE, or pushed down to long-poll
    page.goto(f"{server.url}/dashboard/monitor")
    expect(page.locator("#connection")).to_have_attribute("data-tier", tier, timeout=15_000)
    expect(chart_now(page, "open_streams")).to_have_text("SSE 0 · Long-poll 0")
    expect(chart(page, "deliveries")).to_have_attribute("data-points", re.compile(r"[1-9]"))
    first_drawn = drawn_points(page, "deliveries")

    on_sse, on_longpoll = start_visitor("Ada"), start_visitor("Bia")
    sse = SseReader(server.url, on_sse.id, on_sse.token)
    longpoll = LongPollDrillReader(lambda: server.url, on_longpoll).start()
    try:
        sse.wait(lambda r: r.hello is not None)
        # A point every 5 s: the next one sees both readers.
        expect(chart_now(page, "open_streams")).to_have_text("SSE 1 · Long-poll 1", timeout=15_000)
        for n in range(3):
            post(server, on_sse, f"over SSE {n}")
            post(server, on_longpoll, f"over long-poll {n}")
        sse.wait_for_seq(3)
        longpoll.wait_for_seq(3)
        highest = HIGHEST[locale]
        # The rates and latency of the seconds the messages travelled in: a point with
        # both tiers above zero, and a median, stays the span's highest.
        expect(chart(page, "deliveries")).to_have_attribute(
            "aria-label",
            re.compile(rf"{highest} SSE {ABOVE_ZERO} · Long-poll {ABOVE_ZERO}\."),
            timeout=15_000,
        )
        expect(chart(page, "latency")).to_have_attribute(
            "aria-label", re.compile(rf"{highest} \w+ {ABOVE_ZERO} ms"), timeout=15_000
        )
    finally:
        sse.close()
        longpoll.close()
    expect(chart_now(page, "open_streams")).to_have_text("SSE 0 · Long-poll 0", timeout=15_000)
    assert drawn_points(page, "deliveries") >= first_drawn + 2
    lines = chart(page, "deliveries").locator("path.chart__line")
    assert [lines.nth(n).get_attribute("d").count("L") > 0 for n in (0, 1)] == [True, True]
    assert page.errors == []


def test_a_reloaded_monitor_draws_the_minutes_before_it_was_opened(
    live_server, new_page, admin, visitor
):
    server = live_server(**FAST_TIMINGS)
    page = new_page()
    sign_in(page, server.url, admin)
    page.goto(f"{server.url}/dashboard/monitor")
    expect(chart(page, "open_streams")).to_have_attribute("data-points", re.compile(r"[1-9]"))
    reader = SseReader(server.url, visitor.id, visitor.token)
    try:
        expect(chart_now(page, "open_streams")).to_have_text("SSE 1 · Long-poll 0", timeout=15_000)
    finally:
        reader.close()
    drawn = drawn_points(page, "open_streams")

    page.reload()  # the history is the server's: nothing starts again from zero
    expect(chart(page, "open_streams")).to_have_attribute(
        "aria-label", re.compile(r"highest SSE 1 · Long-poll 0\.")
    )
    assert drawn_points(page, "open_streams") >= drawn
    assert page.errors == []


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
