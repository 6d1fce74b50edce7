"""The message list as a messenger reads, in headless Chromium: groups under day lines,
the new-messages pill, a composer above a phone's keyboard, the greeting of an empty
conversation, and a connection pill whose colour is a drawn dot."""

import datetime as dt
import json
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from devtone.domain import conversations
from devtone.domain.visitors import Visitor
from tests.browser.conftest import FAST_TIMINGS
from tests.browser.dashboard_pages import BLOCK_SSE, expect_dashboard_tier, list_item, sign_in
from tests.browser.host_site import AgentSession
from tests.browser.pages import FIRST, api_post, start_chat, type_message
from tests.conftest import CLOCK_START, ON_SQLITE

pytestmark = [pytest.mark.browser, ON_SQLITE]  # what it looks at is the same on both stacks

PHONE = {"width": 390, "height": 844}
SAO_PAULO = "America/Sao_Paulo"  # UTC-3 all year: the viewer's days are not UTC's


def chat_as(browser, url, visitor, *, timezone="UTC", viewport=None, now=None, script=None):
    """The chat page of a visitor who already has a conversation (as a reload would
    find it), in a browser set to `timezone` whose clock reads `now`; `script` runs
    before the page's own."""
    context = browser.new_context(locale="en-US", timezone_id=timezone, viewport=viewport)
    if script:
        context.add_init_script(script)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    if now is not None:
        page.clock.set_fixed_time(now)  # Date only: timers, and so the feeds, run as usual
    record = {"name": visitor.conversation["visitor"]["name"], "conversationId": visitor.id,
              "token": visitor.token}  # fmt: skip
    page.add_init_script(
        f"localStorage.setItem('devtone.visitor', {json.dumps(json.dumps(record))})"
    )
    page.goto(f"{url}/chat")
    expect(page.locator("#connection")).to_have_attribute("data-state", "live", timeout=15_000)
    return page


def with_messages(url, visitor, count):
    """The visitor's conversation holds `count` messages ("message 0", …), posted over HTTP."""
    for n in range(count):
        api_post(url, {"conversationId": visitor.id, "token": visitor.token}, f"message {n}")


def expect_at_bottom(page, selector="#messages", timeout=5_000):
    page.wait_for_function(
        "s => { const ul = document.querySelector(s);"
        " return ul.scrollHeight - ul.scrollTop - ul.clientHeight < 2; }",
        arg=selector,
        timeout=timeout,
    )


def expect_composer_bottom(page, condition):
    page.wait_for_function(
        f"() => document.getElementById('message-form').getBoundingClientRect().bottom {condition}"
    )


def day_lines(page, selector="#messages"):
    return page.locator(f"{selector} li.day-line").all_inner_texts()


def entry(page, body, selector="#messages"):
    return page.locator(f"{selector} li.message", has_text=body)


def scroll_to_top(page, selector="#messages"):
    """Scroll the list to the top and wait until it stays there: a scroll the page began
    a frame earlier (following the bottom) may still land after the test's."""
    page.wait_for_function(
        """s => new Promise(done => {
          const ul = document.querySelector(s);
          ul.scrollTo(0, 0);
          requestAnimationFrame(() => requestAnimationFrame(() => done(ul.scrollTop === 0)));
        })""",
        arg=selector,
    )


def expect_in_view(page, body, selector="#messages", timeout=5_000):
    """Wait until the entry with `body` is inside the list's visible box (and the
    window's): the list scrolls on the next frame, later still on a loaded machine."""
    page.wait_for_function(
        """([s, body]) => {
          const ul = document.querySelector(s);
          // The body's own text, whole: "message 2" followed by "4:29 PM" reads "message 24:29".
          const li = [...ul.querySelectorAll('li.message')]
            .find(m => m.querySelector('.message__body')?.textContent === body);
          if (!li) return false;
          const box = ul.getBoundingClientRect(), item = li.getBoundingClientRect();
          const visible = (window.visualViewport || {height: innerHeight}).height;
          return item.top >= box.top - 1 && item.bottom <= box.bottom + 1 && item.bottom <= visible;
        }""",
        arg=[selector, body],
        timeout=timeout,
    )


def test_messages_group_by_author_under_day_lines_in_the_viewers_time_zone(
    app, live_server, browser, start_visitor, agent, clock
):
    server = live_server()
    clock.now = CLOCK_START.replace(year=2025, month=12, day=30)  # the log's time only goes on
    ada = start_visitor("Ada")
    me, maria = Visitor(ada.token), agent.identity
    with app.app_context():

        def say(who, body, when):
            clock.now = when
            conversations.post_message(ada.id, who, body)

        say(me, "Hello from last year", CLOCK_START.replace(year=2025, month=12, day=30))
        clock.now = CLOCK_START - timedelta(days=4, hours=1)  # Friday 6 March
        conversations.assign_conversation(ada.id, maria)
        say(maria, "A Friday answer", CLOCK_START - timedelta(days=4))
        # 01:30 UTC on the 10th is 22:30 on the 9th in São Paulo: yesterday, to the viewer.
        say(me, "Late last night", CLOCK_START.replace(hour=1, minute=30))
        say(maria, "Good morning", CLOCK_START.replace(hour=13, minute=0))
        say(maria, "How can I help?", CLOCK_START.replace(hour=13, minute=2))
        say(me, "My order is late", CLOCK_START.replace(hour=13, minute=3))
        say(me, "Order 1234", CLOCK_START.replace(hour=13, minute=4))

    page = chat_as(browser, server.url, ada, timezone=SAO_PAULO, now=CLOCK_START)
    expect(page.locator("#messages li.message")).to_have_count(8, timeout=15_000)

    assert day_lines(page) == ["December 30, 2025", "Friday", "Yesterday", "Today"]
    # Each line stands just above its day's first entry.
    firsts = page.locator("#messages li.day-line + li.message .message__body").all_inner_texts()
    assert firsts == ["Hello from last year", "Maria joined the conversation.", "Late last night",
                      "Good morning"]  # fmt: skip

    # Maria's two messages of this morning: her name and initials once, at the start.
    good_morning, how_can_i_help = entry(page, "Good morning"), entry(page, "How can I help?")
    expect(good_morning.locator(".message__author")).to_have_text("Maria")
    expect(good_morning.locator(".message__author")).to_be_visible()
    expect(good_morning.locator(".message__avatar")).to_have_text("M")
    expect(how_can_i_help.locator(".message__author")).to_be_hidden()
    expect(how_can_i_help.locator(".message__avatar")).to_be_hidden()
    # …and a status line between two of her messages starts her group again.
    expect(entry(page, "A Friday answer").locator(".message__author")).to_be_visible()

    # Times are the viewer's clock: 13:00 UTC is 10:00 in São Paulo.
    expect(good_morning.locator(".message__time")).to_have_text("10:00 AM")

    # Ada's own messages never carry her name where she can see it.
    for body in ("Hello from last year", "Late last night", "My order is late", "Order 1234"):
        box = entry(page, body).locator(".message__author").bounding_box()
        assert box is None or box["width"] <= 1, body  # "You", to screen readers only
    assert "Ada" not in page.locator("#messages").inner_text()
    assert page.errors == []


def test_scrolled_up_a_new_message_shows_the_pill_instead_of_jumping(live_server, new_page, agent):
    server = live_server()
    page = new_page()
    visitor = start_chat(page, server.url, "Ada")
    desk = AgentSession(server.url, agent)
    for n in range(30):
        desk.say(visitor["conversationId"], f"older answer {n}")
    expect(page.locator("#messages li.message")).to_have_count(
        32, timeout=15_000
    )  # and "Maria joined"
    pill = page.locator("#new-messages")
    expect(pill).to_be_hidden()
    expect_in_view(page, "older answer 29")  # at the bottom, the list followed

    messages = page.locator("#messages")
    scroll_to_top(page)
    desk.say(visitor["conversationId"], "a new answer")
    desk.say(visitor["conversationId"], "and another")
    expect(pill).to_be_visible(timeout=15_000)
    expect(pill.locator("[data-count]")).to_have_text("2", timeout=15_000)
    expect(pill).to_contain_text("New messages ↓")
    assert messages.evaluate("ul => ul.scrollTop") == 0, "the view did not jump"

    pill.click()
    expect(pill).to_be_hidden()
    expect_at_bottom(page)
    expect_in_view(page, "and another")

    # Scrolled up again, then back to the bottom by hand: the pill goes by itself.
    scroll_to_top(page)
    desk.say(visitor["conversationId"], "third")
    expect(pill).to_be_visible(timeout=15_000)
    messages.evaluate("ul => ul.scrollTo(0, ul.scrollHeight)")
    expect(pill).to_be_hidden()

    # At the bottom it follows; and what the visitor writes always scrolls down.
    desk.say(visitor["conversationId"], "fourth")
    expect(entry(page, "fourth")).to_have_count(1, timeout=15_000)
    expect_at_bottom(page)
    expect(pill).to_be_hidden()
    scroll_to_top(page)
    type_message(page, "my own reply")
    expect(entry(page, "my own reply")).to_have_count(1)
    expect_at_bottom(page)
    expect(pill).to_be_hidden()
    assert page.errors == []


def test_the_dashboard_transcript_groups_under_day_lines_with_its_own_pill(
    app, live_server, new_page, start_visitor, agent, clock
):
    server = live_server()
    clock.now = CLOCK_START - timedelta(days=1)
    ada = start_visitor("Ada Lovelace")
    with app.app_context():
        conversations.post_message(ada.id, Visitor(ada.token), "yesterday's question")
        clock.now = CLOCK_START
        for n in range(3):
            conversations.post_message(ada.id, Visitor(ada.token), f"today {n}")
    desk = new_page()
    desk.clock.set_fixed_time(CLOCK_START + timedelta(minutes=5))
    sign_in(desk, server.url, agent)
    expect_dashboard_tier(desk, "live", "sse")
    list_item(desk, ada.id).click()
    transcript = "#transcript-messages"
    expect(desk.locator(f"{transcript} li.message")).to_have_count(4, timeout=15_000)
    assert day_lines(desk, transcript) == ["Yesterday", "Today"]
    first_today = entry(desk, "today 0", transcript)
    expect(first_today.locator(".message__author")).to_have_text("Ada Lovelace")
    expect(first_today.locator(".message__avatar")).to_have_text("AL")
    expect(entry(desk, "today 1", transcript).locator(".message__author")).to_be_hidden()
    expect(desk.locator("#transcript-new-messages")).to_be_hidden()
    assert desk.errors == []


def test_on_a_phone_the_header_is_short_and_the_composer_stays_above_the_keyboard(
    live_server, browser, start_visitor
):
    server = live_server()
    ada = start_visitor("Ada")
    with_messages(server.url, ada, 25)
    page = chat_as(browser, server.url, ada, viewport=PHONE)
    expect(page.locator("#messages li.message")).to_have_count(25, timeout=15_000)
    expect(page.locator("#new-conversation")).to_be_visible()
    expect(page.locator("#conversation-status")).to_be_visible()
    assert page.locator(".chat__header").bounding_box()["height"] <= 64

    # The visitor taps the composer and the keyboard takes the bottom of the screen: the
    # window is 500 px tall now (headless Chromium has no keyboard to open).
    page.focus("#message-body")
    page.set_viewport_size({"width": 390, "height": 500})
    expect_composer_bottom(page, "<= 500")
    assert page.locator("#message-form").bounding_box()["y"] >= 0
    expect_at_bottom(page)
    expect_in_view(page, "message 24")  # the newest message stays above the keyboard
    assert page.errors == []


KEYBOARD = """
// A phone's keyboard: only the visual viewport shrinks (iOS Safari; Chrome for Android
// since 108); the layout viewport, and so 100dvh, keeps the whole screen.
(() => {
  const viewport = new EventTarget();
  Object.assign(viewport, {height: innerHeight, width: innerWidth, offsetTop: 0, offsetLeft: 0,
                           pageTop: 0, pageLeft: 0, scale: 1});
  Object.defineProperty(window, "visualViewport", {value: viewport, configurable: true});
  window.openKeyboard = (height) => {
    viewport.height = innerHeight - height;
    viewport.dispatchEvent(new Event("resize"));
  };
})();
"""


def test_the_composer_stays_above_a_keyboard_that_shrinks_only_the_visual_viewport(
    live_server, browser, start_visitor
):
    server = live_server()
    ada = start_visitor("Ada")
    with_messages(server.url, ada, 25)
    page = chat_as(browser, server.url, ada, viewport=PHONE, script=KEYBOARD)
    expect(page.locator("#messages li.message")).to_have_count(25, timeout=15_000)
    page.focus("#message-body")
    page.evaluate("openKeyboard(344)")
    expect_composer_bottom(page, "<= 500")
    expect_at_bottom(page)
    expect_in_view(page, "message 24")
    page.evaluate("openKeyboard(0)")  # closed again: the whole screen is the chat's
    expect_composer_bottom(page, "> 800")
    assert page.errors == []


def test_an_empty_conversation_greets_with_the_team_and_its_typical_reply_time(
    app, live_server, new_page, start_visitor, agent, clock
):
    first = live_server(DEVTONE_TEAM_NAME="Acme Help")
    page = new_page()
    page.goto(f"{first.url}/chat")
    page.fill("#start-name", "Ada")
    page.click("#start-form button[type=submit]")
    greeting = page.locator("#greeting")
    expect(greeting).to_be_visible()
    expect(greeting.locator(".greeting__team")).to_have_text("Acme Help")
    # Nobody has been answered yet: nothing is promised.
    expect(greeting.locator(".greeting__reply")).to_have_text("We'll reply as soon as we can")

    # First replies of this week (15 min, 16 min, 2 h: median 16 min), as a process that
    # has not measured yet reads them (a process measures every few minutes).
    now = dt.datetime.now(dt.UTC)
    with app.app_context():
        for minutes in (15, 16, 120):
            clock.now = now - timedelta(days=2)
            waiting = start_visitor(f"Waited {minutes}")
            conversations.post_message(waiting.id, Visitor(waiting.token), "hello?")
            clock.now += timedelta(minutes=minutes)
            conversations.post_message(waiting.id, agent.identity, "here")
    second = live_server(DEVTONE_TEAM_NAME="Acme Help")
    page.goto(f"{second.url}/chat")  # another port, another origin: Ada says who she is again
    page.fill("#start-name", "Ada")
    page.click("#start-form button[type=submit]")
    expect(greeting.locator(".greeting__reply")).to_have_text(
        "Typically replies in about 15 minutes"
    )

    # The first message replaces the greeting, even before it is stored.
    type_message(page, FIRST)
    expect(greeting).to_be_hidden()
    expect(page.locator("#messages li.message")).to_have_count(1, timeout=15_000)
    assert page.errors == []


@pytest.mark.parametrize(
    ("block_sse", "state", "name", "colour"),
    [(False, "live", "Live: Messages arrive instantly", "rgb(21, 128, 61)"),
     (True, "polling", "Polling: Messages may take a few seconds", "rgb(180, 83, 9)")],
)  # fmt: skip
def test_the_connection_pill_draws_its_colour_and_says_what_it_means(
    live_server, new_page, block_sse, state, name, colour
):
    server = live_server(**FAST_TIMINGS)
    page = new_page()
    if block_sse:
        page.route(BLOCK_SSE, lambda route: route.abort())
    start_chat(page, server.url, "Ada", state=state, tier="longpoll" if block_sse else "sse")
    pill = page.locator("#connection")
    label = name.split(":")[0]
    expect(pill).to_have_text(label)
    expect(pill).to_have_accessible_name(name)
    assert pill.get_attribute("title").split("\n")[0] == name.split(": ")[1]
    dot = pill.evaluate(
        "el => { const s = getComputedStyle(el, '::before');"
        " return {content: s.content, colour: s.backgroundColor, radius: s.borderRadius,"
        " width: parseFloat(s.width)}; }"
    )
    assert dot["content"] == '""' and dot["radius"] == "50%" and dot["width"] >= 6, dot
    assert dot["colour"] == colour


def test_the_dashboard_pill_says_what_it_means_for_the_agent(live_server, new_page, agent):
    server = live_server()
    desk = new_page()
    sign_in(desk, server.url, agent)
    expect_dashboard_tier(desk, "live", "sse")
    pill = desk.locator("#connection")
    expect(pill).to_have_text("Real-time")
    expect(pill).to_have_accessible_name("Real-time: Conversations and messages update instantly")
    assert pill.get_attribute("title").startswith("Conversations and messages update instantly\n")
