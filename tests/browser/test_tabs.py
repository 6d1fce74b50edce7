"""One stream per browser, however many tabs: the tabs of one origin elect a leader (Web
Locks) that alone holds the tier and relays to the others (BroadcastChannel); when it
closes, another tab takes over without a gap or a duplicate."""

import re
import time

import pytest
import requests
from playwright.sync_api import expect
from prometheus_client.parser import text_string_to_metric_families

from devtone.domain import conversations
from devtone.domain.models import Message
from devtone.domain.visitors import Visitor
from tests.browser.conftest import FAST_TIMINGS
from tests.browser.dashboard_pages import BLOCK_SSE, expect_dashboard_tier, list_item, sign_in
from tests.browser.host_site import AgentSession
from tests.browser.pages import FIRST, api_post, first_message, shown, start_chat, type_message

pytestmark = pytest.mark.browser

METRICS_TOKEN = "tabs-test-metrics"
SERVER = {**FAST_TIMINGS, "DEVTONE_METRICS_TOKEN": METRICS_TOKEN}
WIDGET_LAUNCHER = "devtone-widget >> #launcher"
WIDGET_FRAME = "devtone-widget >> #frame"


def open_streams(server, kind):
    """What the server counts: open SSE streams plus waiting long-polls of `kind`."""
    answer = requests.get(
        f"{server.url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=10
    )
    assert answer.status_code == 200, answer.text
    return sum(
        sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
        if sample.name == "devtone_open_streams" and sample.labels.get("kind") == kind
    )


def expect_open_streams(server, kind, count, seconds=10):
    """Wait until the server counts `count` streams of `kind` (a closed tab's stream ends
    when the server next writes to it: a heartbeat)."""
    deadline = time.monotonic() + seconds
    while (counted := open_streams(server, kind)) != count:
        assert time.monotonic() < deadline, f"{counted} {kind} streams, not {count}"
        time.sleep(0.1)


def tabs(context, url, count):
    """`count` tabs of one browser (one context: the same origin's storage, locks, channels)."""
    pages = []
    for _ in range(count):
        page = context.new_page()
        page.console = []
        page.on("console", lambda message, page=page: page.console.append(message.text))
        page.goto(url)
        pages.append(page)
    return pages


def body_once(page, body):
    """The confirmed message whose whole body is `body`."""
    return page.locator(
        "li.message:not(.message--pending) .message__body", has_text=re.compile(f"^{body}$")
    )


def expect_bodies_once_in_order(page, bodies, selector):
    for body in bodies:
        expect(page.locator(selector, has_text=re.compile(f"^{body}$"))).to_have_count(1)
    texts = page.locator(selector).all_text_contents()
    assert [text for text in texts if text in bodies] == bodies, texts


def test_eight_dashboard_tabs_hold_one_stream_and_the_next_leader_resumes_without_gap_or_twice(
    app, browser, live_server, agent, start_visitor
):
    server = live_server(**SERVER)
    ada = start_visitor("Ada")
    with app.app_context():
        conversations.post_message(ada.id, Visitor(ada.token), "first question")
    context = browser.new_context()
    first = context.new_page()
    sign_in(first, server.url, agent)
    expect_dashboard_tier(first, "live", "sse")
    desks = [first, *tabs(context, f"{server.url}/dashboard", 7)]
    for desk in desks:  # every tab loads, and shows the leader's tier
        expect_dashboard_tier(desk, "live", "sse")
        list_item(desk, ada.id).click()
        expect(desk.locator("#transcript-messages")).to_contain_text("first question")
    expect_open_streams(server, "dashboard", 1)
    expect_open_streams(server, "conversation", 1)

    first.close()  # the first tab leads both feeds: it asked first
    started = time.monotonic()
    bodies = [f"during the hand-over {n}" for n in range(20)]
    for body in bodies:  # through the server, as the visitor's page would
        first_message(server.url, ada, body)
    remaining_ms = (started + 2 - time.monotonic()) * 1000
    for desk in desks[1:]:
        expect(desk.locator("#transcript-messages")).to_contain_text(
            bodies[0], timeout=remaining_ms
        )
    for desk in desks[1:]:
        expect_bodies_once_in_order(desk, bodies, "#transcript-messages .message__body")
        expect_dashboard_tier(desk, "live", "sse")
    expect_open_streams(server, "dashboard", 1)
    expect_open_streams(server, "conversation", 1)
    context.close()


@pytest.mark.parametrize(("tier", "state"), [("sse", "live"), ("longpoll", "polling")])
def test_three_chat_tabs_share_one_stream_and_a_message_typed_in_a_follower_is_stored_once(
    app, browser, live_server, tier, state
):
    server = live_server(**SERVER)
    context = browser.new_context()
    if tier == "longpoll":  # a network that lets no stream through: every tab's SSE fails
        context.route(BLOCK_SSE, lambda route: route.abort())
    leader = context.new_page()
    leader.console = []
    visitor = start_chat(leader, server.url, "Ada", state=state, tier=tier)
    chats = [leader, *tabs(context, f"{server.url}/chat", 2)]
    for chat in chats:
        expect(body_once(chat, FIRST)).to_have_count(1)
        expect(chat.locator("#connection")).to_have_attribute("data-state", state)
        expect(chat.locator("#connection")).to_have_attribute("data-tier", tier)
    expect_open_streams(server, "conversation", 1)  # one stream, or one waiting long-poll
    for _ in range(5):  # and it stays one (a long-poll per tab would count up to three)
        time.sleep(0.2)
        assert open_streams(server, "conversation") <= 1

    type_message(chats[2], "typed in a follower")
    for chat in chats:
        expect(body_once(chat, "typed in a follower")).to_have_count(1)

    leader.close()
    started = time.monotonic()
    bodies = [api_post(server.url, visitor, f"during the hand-over {n}")["body"] for n in range(20)]
    remaining_ms = (started + 2 - time.monotonic()) * 1000
    for chat in chats[1:]:
        expect(body_once(chat, bodies[0])).to_have_count(1, timeout=max(remaining_ms, 1))
    for chat in chats[1:]:
        expect(body_once(chat, bodies[-1])).to_have_count(1)
        seen = shown(chat)
        assert [seq for seq, _ in seen] == list(range(1, len(seen) + 1)), seen
        assert [body for _, body in seen] == [FIRST, "typed in a follower", *bodies], seen
    expect_open_streams(server, "conversation", 1)

    with app.app_context():
        stored = Message.query.filter_by(
            conversation_id=visitor["conversationId"], body="typed in a follower"
        ).count()
    assert stored == 1
    context.close()


def test_two_shop_tabs_with_the_widget_each_keep_their_own_stream_where_locks_are_refused(
    browser, live_server, host_site, agent
):
    # The widget's frame is a third-party frame of the shop: Chromium refuses it Web Locks
    # (SecurityError), so each frame keeps a stream of its own, as without sharing.
    server = live_server(**SERVER, DEVTONE_EMBED_ORIGINS=host_site.origin)
    url = host_site.page("shop.html", server.url)
    context = browser.new_context()
    shop = context.new_page()
    shop.goto(url)
    shop.click(WIDGET_LAUNCHER)
    frame = shop.frame_locator(WIDGET_FRAME)
    frame.locator("#start-name").fill("Ada")
    frame.locator("#start-form button[type=submit]").click()
    frame.locator("#message-body").fill("Hello from the shop")
    frame.locator("#message-body").press("Enter")
    expect(frame.locator("#connection")).to_have_attribute("data-state", "live", timeout=15_000)
    other = context.new_page()
    other.goto(url)
    other.click(WIDGET_LAUNCHER)
    other_frame = other.frame_locator(WIDGET_FRAME)
    expect(other_frame.locator("#messages")).to_contain_text("Hello from the shop")
    expect(other_frame.locator("#connection")).to_have_attribute("data-state", "live")
    expect_open_streams(server, "conversation", 2)

    desk = AgentSession(server.url, agent)
    desk.say(desk.conversation_of("Ada"), "Seen in both tabs")
    for page in (shop, other):
        messages = page.frame_locator(WIDGET_FRAME).locator("#messages")
        expect(messages).to_contain_text("Seen in both tabs", timeout=15_000)
    context.close()


def test_when_the_leading_tab_freezes_another_takes_over_and_it_follows_when_it_resumes(
    browser, live_server
):
    server = live_server(**SERVER)
    context = browser.new_context()
    leader = context.new_page()
    visitor = start_chat(leader, server.url, "Ada")
    (follower,) = tabs(context, f"{server.url}/chat", 1)
    expect(body_once(follower, FIRST)).to_have_count(1)
    expect_open_streams(server, "conversation", 1)

    lifecycle = context.new_cdp_session(leader)
    lifecycle.send("Page.setWebLifecycleState", {"state": "frozen"})  # fires `freeze`
    expect(follower.locator("#connection")).to_have_attribute("data-state", "live")
    during = api_post(server.url, visitor, "while the first tab sleeps")["body"]
    expect(body_once(follower, during)).to_have_count(1)
    expect_open_streams(server, "conversation", 1)

    lifecycle.send("Page.setWebLifecycleState", {"state": "active"})  # fires `resume`
    expect(body_once(leader, during)).to_have_count(1)
    after = api_post(server.url, visitor, "both awake")["body"]
    for page in (leader, follower):
        expect(body_once(page, after)).to_have_count(1)
        assert [body for _, body in shown(page)] == [FIRST, during, after]
    expect_open_streams(server, "conversation", 1)
    context.close()
