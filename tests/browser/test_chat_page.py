"""The customer page in headless Chromium against a real server."""

import re

import pytest
from playwright.sync_api import expect

from devtone.domain import conversations
from tests.browser.conftest import FAST_TIMINGS
from tests.browser.host_site import AgentSession
from tests.browser.pages import api_post, expect_shown_once_in_order, start_chat, type_message
from tests.conftest import ON_SQLITE

pytestmark = pytest.mark.browser

XSS = "<img src=x onerror=alert(1)>"


def test_two_visitors_each_see_only_their_own_conversation_live_and_after_reload(
    live_server, new_page
):
    server = live_server()
    ada_page, bob_page = new_page(), new_page()
    ada = start_chat(ada_page, server.url, "Ada")
    bob = start_chat(bob_page, server.url, "Bob")
    assert ada["conversationId"] != bob["conversationId"]
    expect(ada_page.locator("#connection")).to_contain_text("Live")

    # Posted through the API, not the page: it arrives over SSE without a reload (after
    # each one's first message, which started the conversation).
    api_post(server.url, ada, XSS)
    api_post(server.url, bob, "only for Bob")
    ada_messages = ada_page.locator("#messages li.message")
    expect(ada_messages).to_have_count(2)
    expect(ada_messages.nth(1)).to_contain_text(XSS)
    expect(bob_page.locator("#messages li.message")).to_have_count(2)
    expect(bob_page.locator("#messages li.message").nth(1)).to_contain_text("only for Bob")

    # Typed in the page: shown at once, confirmed by its stored seq.
    ada_page.fill("#message-body", "typed here 👋 שלום")
    ada_page.press("#message-body", "Enter")
    expect(ada_page.locator("#messages li.message[data-seq='3']")).to_contain_text(
        "typed here 👋 שלום"
    )

    ada_page.reload()
    expect(ada_page.locator("#connection")).to_have_attribute("data-state", "live")
    expect(ada_messages).to_have_count(3)
    assert [ada_messages.nth(i).get_attribute("data-seq") for i in range(3)] == ["1", "2", "3"]
    api_post(server.url, ada, "after the reload")
    expect(ada_messages).to_have_count(4)

    # HTML in a message is text: no element was made from it and no script ran.
    assert ada_page.locator("#messages img").count() == 0
    assert ada_page.dialogs == [] and ada_page.errors == []
    assert bob_page.errors == []
    expect(bob_page.locator("#messages li.message")).to_have_count(2)


@pytest.mark.parametrize(
    ("tiers", "state", "tier"),
    [("sse,longpoll,poll", "live", "sse"), ("longpoll,poll", "polling", "longpoll"),
     ("poll", "polling", "poll")],
)  # fmt: skip
def test_the_page_learns_who_joined_and_the_close_from_its_feed_without_fetching_the_conversation(
    app, live_server, new_page, make_agent, tiers, state, tier
):
    server = live_server(**FAST_TIMINGS, DEVTONE_TIERS=tiers)
    page = new_page()
    fetched = []
    page.on(
        "request",
        lambda request: (
            fetched.append(request.url)
            if re.search(r"/api/conversations/\d+(\?.*)?$", request.url) and request.method == "GET"
            else None
        ),
    )
    visitor = start_chat(page, server.url, "Ada", state=state, tier=tier)
    maria = make_agent("Maria")
    status = page.locator("#conversation-status")
    expect(status).to_have_text("Waiting for an agent…")

    with app.app_context():
        conversations.assign_conversation(visitor["conversationId"], maria.identity)
    # The status entry says someone joined; only the conversation says who.
    expect(status).to_have_text("Maria is here", timeout=15_000)
    with app.app_context():
        conversations.close_conversation(visitor["conversationId"], maria.identity)
    expect(status).to_have_text("This conversation is closed", timeout=15_000)
    expect(page.locator("#closed-notice")).to_be_visible()

    assert fetched == [], "the page asked for the conversation instead of taking it from its feed"
    assert page.errors == []


@ON_SQLITE  # a form, a frame, a key: the same on both stacks
def test_the_pre_chat_form_asks_for_a_name_and_brings_back_an_address_the_server_refused(
    live_server, new_page
):
    server = live_server()
    page = new_page()
    page.goto(f"{server.url}/chat")
    page.fill("#start-name", "   ")  # blank, though the field is "required"
    page.click("#start-form button[type=submit]")
    expect(page.locator("#start-name-error")).to_have_text("Please tell us your name.")
    expect(page.locator("#start-name")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#message-body")).to_be_hidden()

    # The browser takes "ada@localhost" as an address; the server does not, at the first message.
    page.fill("#start-name", "Ada")
    page.fill("#start-email", "ada@localhost")
    page.click("#start-form button[type=submit]")
    expect(page.locator("#start-name-error")).to_be_hidden()
    type_message(page, "Hello?")
    expect(page.locator("#start-email-error")).to_have_text("This e-mail address is not valid.")
    expect(page.locator("#start-name")).to_have_value("Ada")
    expect(page.locator("#start-email")).to_have_value("ada@localhost")

    page.fill("#start-email", "ada@example.com")
    page.click("#start-form button[type=submit]")
    type_message(page, "Hello?")
    expect_shown_once_in_order(page, ["Hello?"])
    assert page.errors == []


@ON_SQLITE  # a form, a frame, a key: the same on both stacks
def test_the_pre_chat_form_starts_nothing_until_the_first_message(live_server, new_page, agent):
    server = live_server()
    page = new_page()
    started = []
    page.on(
        "request",
        lambda r: (
            started.append(r.url)
            if r.method == "POST" and r.url.endswith("/api/conversations")
            else None
        ),
    )
    page.goto(f"{server.url}/chat")
    page.fill("#start-name", "Ada")
    page.fill("#start-email", "ada@example.com")
    page.click("#start-form button[type=submit]")
    expect(page.locator("#message-body")).to_be_visible()
    expect(page.locator("#connection")).to_be_hidden()  # nothing to be connected to yet
    page.reload()  # who she is was kept; still nothing started
    expect(page.locator("#message-body")).to_be_visible()
    expect(page.locator("#start-form")).to_be_hidden()
    desk = AgentSession(server.url, agent)
    assert started == []
    assert desk.session.get(f"{server.url}/api/dashboard/snapshot").json()["conversations"] == []

    type_message(page, "Olá! Meu pedido não chegou.")
    expect(page.locator("#connection")).to_have_attribute("data-state", "live", timeout=15_000)
    expect_shown_once_in_order(page, ["Olá! Meu pedido não chegou."])
    assert len(started) == 1
    (listed,) = desk.session.get(f"{server.url}/api/dashboard/snapshot").json()["conversations"]
    assert listed["visitor"] == {"name": "Ada", "email": "ada@example.com"}
    assert listed["last_message"]["body"] == "Olá! Meu pedido não chegou."
    assert page.errors == []


@ON_SQLITE  # a form, a frame, a key: the same on both stacks
def test_new_conversation_asks_first_and_keeps_the_old_one_reachable(live_server, new_page, agent):
    server = live_server()
    page = new_page()
    first = start_chat(page, server.url, "Ada", first="about order 1")
    desk = AgentSession(server.url, agent)
    desk.say(first["conversationId"], "order 1 ships today")
    expect(page.locator("#messages")).to_contain_text("order 1 ships today", timeout=15_000)

    page.click("#new-conversation")  # one click asks; nothing is gone
    expect(page.locator("#new-confirm")).to_be_visible()
    page.click("#new-confirm-no")
    expect(page.locator("#new-confirm")).to_be_hidden()
    expect(page.locator("#messages")).to_contain_text("order 1 ships today")

    page.click("#new-conversation")
    page.click("#new-confirm-yes")
    expect(page.locator("#messages li.message")).to_have_count(0)
    expect(page.locator("#earlier")).to_be_visible()
    type_message(page, "about order 2")
    expect(page.locator("#connection")).to_have_attribute("data-state", "live", timeout=15_000)
    expect_shown_once_in_order(page, ["about order 2"])
    second = page.evaluate("JSON.parse(localStorage.getItem('devtone.visitor'))")
    assert second["conversationId"] != first["conversationId"]
    assert second["earlier"][0]["token"] == first["token"]  # the old token is kept

    # The earlier conversation opens again, with its history, live.
    page.reload()
    page.locator("#earlier summary").click()
    page.locator("#earlier-list button").first.click()
    expect(page.locator("#messages")).to_contain_text("order 1 ships today", timeout=15_000)
    desk.say(first["conversationId"], "and here is the tracking number")
    expect(page.locator("#messages")).to_contain_text("tracking number", timeout=15_000)
    back = page.evaluate("JSON.parse(localStorage.getItem('devtone.visitor'))")
    assert back["conversationId"] == first["conversationId"]
    assert [c["conversationId"] for c in back["earlier"]] == [second["conversationId"]]
    assert page.errors == []


@ON_SQLITE  # a form, a frame, a key: the same on both stacks
def test_a_page_whose_token_opens_nothing_offers_a_new_conversation(live_server, new_page):
    server = live_server()
    page = new_page()
    visitor = start_chat(page, server.url, "Ada")
    # A stored token that no longer opens the conversation (the server answers 404, as for
    # one that does not exist): the page forgets it and offers to start again.
    forged = {**visitor, "token": "A" * 43}
    page.evaluate("v => localStorage.setItem('devtone.visitor', JSON.stringify(v))", forged)
    page.reload()
    # Who she is stays: the composer offers the new conversation her next message starts.
    expect(page.locator("#conversation-notice")).to_have_text(
        "Your previous conversation is no longer available. Start a new one.", timeout=15_000
    )
    expect(page.locator("#message-body")).to_be_visible()
    expect(page.locator("#connection")).to_be_hidden()
    stored = page.evaluate("JSON.parse(localStorage.getItem('devtone.visitor'))")
    assert stored == {"name": "Ada"}  # the token that opens nothing is let go
