"""The widget on a customer's website (another loopback origin), in headless Chromium."""

import time

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import FAST_TIMINGS
from tests.browser.host_site import AgentSession
from tests.conftest import ON_SQLITE

pytestmark = pytest.mark.browser

LAUNCHER = "devtone-widget >> #launcher"
BADGE = "devtone-widget >> #badge"


def _serve(live_server, host_site, **env):
    return live_server(**FAST_TIMINGS, DEVTONE_EMBED_ORIGINS=host_site.origin, **env)


def _chat_frame(page):
    return page.frame_locator("devtone-widget >> #frame")


def _start_in_widget(page, name="Ada", first="Hello from the shop"):
    """Open the launcher, say who you are, send `first` (it starts the conversation)."""
    page.click(LAUNCHER)
    frame = _chat_frame(page)
    frame.locator("#start-name").fill(name)
    frame.locator("#start-form button[type=submit]").click()
    _send(frame, first)
    expect(frame.locator("#connection")).to_have_attribute("data-state", "live", timeout=15_000)
    return frame


def _send(frame, body):
    frame.locator("#message-body").fill(body)
    frame.locator("#message-body").press("Enter")


def test_a_visitor_chats_from_another_site_without_touching_it(
    live_server, host_site, new_page, agent
):
    server = _serve(live_server, host_site)
    url = host_site.page("shop.html", server.url, 'data-title="Talk to us" data-position="left"')
    page = new_page()
    page.goto(url)
    expect(page.locator(LAUNCHER)).to_be_visible(timeout=15_000)
    expect(page.locator(LAUNCHER)).to_have_attribute("aria-label", "Talk to us")

    frame = _start_in_widget(page, first="Do you ship to Oslo?")
    expect(frame.locator("#messages")).to_contain_text("Do you ship to Oslo?")

    desk = AgentSession(server.url, agent)
    desk.say(desk.conversation_of("Ada"), "We do, in 3 days.")
    expect(frame.locator("#messages")).to_contain_text("We do, in 3 days.", timeout=15_000)

    # The host page is untouched: its globals, its styles, and exactly one new global.
    added = page.evaluate(
        "Object.keys(window).filter(key => !__keysBefore.includes(key) && key !== '__keysBefore')"
    )
    assert added == ["devtone"]
    assert page.evaluate("window.shopCart") == ["socks"]
    product = page.locator("#product")
    assert product.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(1, 2, 3)"
    assert product.evaluate("el => getComputedStyle(el).color") == "rgb(255, 0, 0)"
    # …and the page's aggressive CSS does not reach the widget.
    launcher_border = page.locator(LAUNCHER).evaluate("el => getComputedStyle(el).borderTopColor")
    assert launcher_border != "rgb(0, 255, 0)"
    assert page.errors == []


def test_an_agent_message_raises_the_badge_while_closed_and_opening_clears_it(
    live_server, host_site, new_page, agent
):
    server = _serve(live_server, host_site)
    page = new_page()
    page.goto(host_site.page("shop.html", server.url))
    _start_in_widget(page)
    # `; null`: Playwright calls a function an expression evaluates to, and on() returns
    # the function that removes the handler.
    page.evaluate("window.unreadSeen = []; devtone.on('unread', n => unreadSeen.push(n)); null")
    page.evaluate("devtone.close()")
    desk = AgentSession(server.url, agent)
    desk.say(desk.conversation_of("Ada"), "Are you still there?")
    desk.say(desk.conversation_of("Ada"), "Your parcel left today.")
    expect(page.locator(BADGE)).to_have_text("2", timeout=15_000)
    expect(page.locator(LAUNCHER)).to_have_attribute("aria-label", "Chat with us (2 unread)")
    assert page.evaluate("unreadSeen") == [1, 2]
    page.click(LAUNCHER)
    expect(page.locator(BADGE)).to_be_hidden(timeout=15_000)
    assert page.evaluate("devtone.unread") == 0
    assert page.evaluate("unreadSeen") == [1, 2, 0]


@ON_SQLITE  # a form, a frame, a key: the same on both stacks
def test_the_badge_follows_the_visitor_to_another_page_of_the_site(
    live_server, host_site, new_page, agent
):
    """The count of unseen agent messages comes from the visitor's seen mark on the server,
    not from the memory of one page."""
    server = _serve(live_server, host_site)
    page = new_page()
    page.goto(host_site.page("shop.html", server.url))
    _start_in_widget(page)
    page.evaluate("devtone.close()")
    desk = AgentSession(server.url, agent)
    desk.say(desk.conversation_of("Ada"), "Are you still there?")
    desk.say(desk.conversation_of("Ada"), "Your parcel left today.")
    expect(page.locator(BADGE)).to_have_text("2", timeout=15_000)

    page.goto(host_site.page("checkout.html", server.url))  # another page of the shop
    expect(page.locator(BADGE)).to_have_text("2", timeout=15_000)  # never opened, still 2
    expect(page.locator(LAUNCHER)).to_have_attribute("aria-label", "Chat with us (2 unread)")
    page.click(LAUNCHER)
    expect(page.locator(BADGE)).to_be_hidden(timeout=15_000)

    def visitor_seen():
        desk_view = desk.session.get(f"{server.url}/api/dashboard/snapshot").json()
        (seen,) = [c["marks"]["visitor"]["seen"] for c in desk_view["conversations"]]
        return seen

    deadline = time.monotonic() + 10  # the mark follows the badge in one POST per burst
    while visitor_seen() < 4 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert visitor_seen() == 4  # hello, the join, both answers: the server holds it

    page.goto(host_site.page("shop.html", server.url))  # and it stays seen
    expect(page.locator(LAUNCHER)).to_be_visible(timeout=15_000)
    page.wait_for_timeout(1000)
    expect(page.locator(BADGE)).to_be_hidden()
    assert page.errors == []


def test_the_widget_shows_each_message_go_sent_delivered_seen(
    live_server, host_site, new_page, agent
):
    server = _serve(live_server, host_site)
    page = new_page()
    page.goto(host_site.page("shop.html", server.url))
    frame = _start_in_widget(page, first="Do you ship to Lisbon?")
    state = frame.locator("#messages li.message--visitor .message__state")
    expect(state).to_have_attribute("data-state", "sent", timeout=15_000)
    desk = AgentSession(server.url, agent)
    conversation_id = desk.conversation_of("Ada")

    def agent_marks(**marks):  # what the agent's dashboard reports
        answer = desk.session.post(
            f"{server.url}/api/conversations/{conversation_id}/marks",
            json=marks,
            headers={"X-CSRFToken": desk.csrf},
            timeout=10,
        )
        assert answer.status_code == 200, answer.text

    agent_marks(delivered=1)
    expect(state).to_have_attribute("data-state", "delivered", timeout=15_000)
    expect(state).to_have_attribute("aria-label", "Delivered")
    agent_marks(seen=1)
    expect(state).to_have_attribute("data-state", "seen", timeout=15_000)
    expect(state).to_have_attribute("title", "Seen")


@ON_SQLITE  # a form, a frame, a key: the same on both stacks
def test_a_site_not_allowed_shows_no_launcher_and_says_why_in_its_console(
    live_server, host_site, new_page
):
    server = live_server(**FAST_TIMINGS, DEVTONE_EMBED_ORIGINS="https://shop.example.com")
    page = new_page()
    page.goto(host_site.page("shop.html", server.url))
    page.wait_for_function(
        "() => performance.getEntriesByType('resource')"
        ".some(r => r.name.includes('/embed/allowed'))"
    )
    page.wait_for_timeout(500)
    assert page.locator("devtone-widget").count() == 0  # no launcher, no frame, nothing
    warnings = [line for line in page.console if "DEVTONE_EMBED_ORIGINS" in line]
    assert len(warnings) == 1, page.console
    assert host_site.origin in warnings[0]
    assert page.evaluate("typeof devtone.open") == "function"  # the host's calls still work
    page.evaluate("devtone.open()")
    assert page.locator("devtone-widget").count() == 0


def test_the_widget_works_on_the_poll_tier_only(live_server, host_site, new_page, agent):
    server = _serve(live_server, host_site, DEVTONE_TIERS="poll")
    page = new_page()
    page.goto(host_site.page("shop.html", server.url))
    page.click(LAUNCHER)
    frame = _chat_frame(page)
    frame.locator("#start-name").fill("Ada")
    frame.locator("#start-form button[type=submit]").click()
    _send(frame, "polling hello")
    connection = frame.locator("#connection")
    expect(connection).to_have_attribute("data-tier", "poll", timeout=15_000)
    desk = AgentSession(server.url, agent)
    expect(frame.locator("#messages")).to_contain_text("polling hello", timeout=15_000)
    desk.say(desk.conversation_of("Ada"), "polling answer")
    expect(frame.locator("#messages")).to_contain_text("polling answer", timeout=15_000)
    expect(frame.locator("#messages")).to_contain_text("polling hello")


@ON_SQLITE  # a form, a frame, a key: the same on both stacks
def test_a_site_not_allowed_cannot_frame_embed_and_nobody_frames_the_dashboard(
    live_server, host_site, new_page
):
    # Another site is allowed; this one is missing from the list.
    server = live_server(**FAST_TIMINGS, DEVTONE_EMBED_ORIGINS="https://shop.example.com")
    page = new_page()
    url = host_site.raw_page(
        "frames.html",
        f'<iframe id="embed" src="{server.url}/embed?origin={host_site.origin}"></iframe>'
        f'<iframe id="dashboard" src="{server.url}/dashboard/login"></iframe>',
    )
    page.goto(url)
    page.wait_for_timeout(1500)
    for name in ("embed", "dashboard"):
        frame = page.frame_locator(f"#{name}")
        # The browser refused to render devtone inside the frame.
        expect(frame.locator("main, form")).to_have_count(0)


def test_reloading_the_host_page_keeps_the_conversation_and_shows_its_history_once(
    live_server, host_site, new_page, agent
):
    server = _serve(live_server, host_site)
    page = new_page()
    url = host_site.page("shop.html", server.url)
    page.goto(url)
    frame = _start_in_widget(page, first="first question")
    desk = AgentSession(server.url, agent)
    expect(frame.locator("#messages")).to_contain_text("first question", timeout=15_000)
    desk.say(desk.conversation_of("Ada"), "first answer")
    expect(frame.locator("#messages")).to_contain_text("first answer", timeout=15_000)

    page.reload()
    page.click(LAUNCHER)
    frame = _chat_frame(page)
    expect(frame.locator("#start-form")).to_be_hidden(timeout=15_000)
    messages = frame.locator("#messages li.message:not(.message--pending)")
    # The whole history, once each: the question, the agent joining (answering took the
    # conversation), the answer.
    expect(messages).to_have_count(3, timeout=15_000)
    assert frame.locator("#messages").inner_text().count("first question") == 1
    assert frame.locator("#messages").inner_text().count("first answer") == 1
    assert "Maria joined the conversation." in frame.locator("#messages").inner_text()
    # Still the same conversation, live: a new answer arrives once.
    desk.say(desk.conversation_of("Ada"), "after the reload")
    expect(messages).to_have_count(4, timeout=15_000)


@ON_SQLITE  # a form, a frame, a key: the same on both stacks
def test_the_api_identify_queued_before_the_loader_and_reset(
    live_server, host_site, new_page, agent
):
    server = _serve(live_server, host_site)
    page = new_page()
    queued = (
        "window.devtone = window.devtone || [];"
        ' devtone.push(["identify", {name: "Queued Ada", email: "ada@example.com"}]);'
    )
    page.goto(host_site.page("shop.html", server.url, before_loader=queued))
    page.click(LAUNCHER)
    frame = _chat_frame(page)
    # identify skipped the pre-chat form, and only remembered who the visitor is: no
    # conversation waits in the agents' queue until the visitor writes.
    expect(frame.locator("#start-form")).to_be_hidden(timeout=15_000)
    expect(frame.locator("#message-form")).to_be_visible()
    desk = AgentSession(server.url, agent)
    page.wait_for_timeout(500)
    assert desk.session.get(f"{server.url}/api/dashboard/snapshot").json()["conversations"] == []
    _send(frame, "I was identified by the shop")
    expect(frame.locator("#connection")).to_have_attribute("data-state", "live", timeout=15_000)
    old = desk.conversation_of("Queued Ada")
    old_token = page.evaluate(
        f"JSON.parse(localStorage.getItem('devtone.visitor:{server.url}')).token"
    )

    page.evaluate("devtone.reset()")
    expect(frame.locator("#start-form")).to_be_visible(timeout=15_000)
    assert page.evaluate(f"localStorage.getItem('devtone.visitor:{server.url}')") is None
    # The old visitor's token is gone from the page; the new visitor starts afresh.
    frame.locator("#start-name").fill("Someone Else")
    frame.locator("#start-form button[type=submit]").click()
    _send(frame, "a new visitor")
    expect(frame.locator("#connection")).to_have_attribute("data-state", "live", timeout=15_000)
    new_token = page.evaluate(
        f"JSON.parse(localStorage.getItem('devtone.visitor:{server.url}')).token"
    )
    assert new_token != old_token
    assert desk.conversation_of("Someone Else") != old


@ON_SQLITE  # a form, a frame, a key: the same on both stacks
def test_messages_from_other_windows_are_ignored_by_the_loader(live_server, host_site, new_page):
    server = _serve(live_server, host_site)
    page = new_page()
    page.goto(host_site.page("shop.html", server.url))
    expect(page.locator(LAUNCHER)).to_be_visible(timeout=15_000)
    # The page itself (not the widget's frame) pretending to be devtone's iframe.
    page.evaluate(
        "window.postMessage({devtone: 1, type: 'unread', count: 5}, '*');"
        " window.postMessage({devtone: 1, type: 'store', visitor: null}, '*'); null"
    )
    page.wait_for_timeout(500)
    expect(page.locator(BADGE)).to_be_hidden()
    assert page.evaluate("devtone.unread") == 0


@ON_SQLITE  # a form, a frame, a key: the same on both stacks
def test_the_chat_frame_ignores_messages_from_an_origin_it_was_not_given(
    live_server, host_site, new_page
):
    server = _serve(live_server, host_site)
    page = new_page()
    page.goto(host_site.page("shop.html", server.url))
    frame = _start_in_widget(page)
    # No page of another origin can even reach the widget's frame (it lives in a shadow
    # root, outside window.frames); what can reach it is a message of another origin than
    # the host page's: here, devtone's own, posted by a script in the frame to itself.
    assert page.evaluate("window.frames.length") == 0
    widget = next(f for f in page.frames if "/embed" in f.url)
    widget.evaluate(
        "window.postMessage({devtone: 1, type: 'reset'}, '*');"
        " window.postMessage({devtone: 1, type: 'identify', name: 'Mallory'}, '*'); null"
    )
    page.wait_for_timeout(1000)
    expect(frame.locator("#start-form")).to_be_hidden()
    expect(frame.locator("#message-form")).to_be_visible()
    assert frame.locator("#start-name").input_value() != "Mallory"
    # The host page's own message, from the right origin, is obeyed.
    page.evaluate("devtone.reset()")
    expect(frame.locator("#start-form")).to_be_visible(timeout=15_000)


@ON_SQLITE  # a form, a frame, a key: the same on both stacks
def test_on_a_narrow_screen_the_panel_takes_the_viewport_and_esc_closes_it(
    live_server, host_site, new_page
):
    server = _serve(live_server, host_site)
    page = new_page()
    page.set_viewport_size({"width": 360, "height": 640})
    page.goto(host_site.page("shop.html", server.url))
    launcher = page.locator(LAUNCHER)
    launcher.focus()
    page.keyboard.press("Enter")  # keyboard reachable: the launcher is a button
    panel = page.locator("devtone-widget >> #panel")
    expect(panel).to_have_attribute("data-state", "open")
    box = panel.bounding_box()
    assert (round(box["width"]), round(box["height"])) == (360, 640)
    page.keyboard.press("Escape")
    expect(panel).to_have_attribute("data-state", "closed")
    assert page.evaluate("devtone.isOpen") is False
