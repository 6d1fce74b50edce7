"""The customer page in headless Chromium against a real server."""

import re

import pytest
from playwright.sync_api import expect

from devtone.domain import conversations
from tests.browser.conftest import FAST_TIMINGS
from tests.browser.pages import api_post, start_chat

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

    # Posted through the API, not the page: it arrives over SSE without a reload.
    api_post(server.url, ada, XSS)
    api_post(server.url, bob, "only for Bob")
    ada_messages = ada_page.locator("#messages li.message")
    expect(ada_messages).to_have_count(1)
    expect(ada_messages.first).to_contain_text(XSS)
    expect(bob_page.locator("#messages li.message")).to_have_count(1)
    expect(bob_page.locator("#messages li.message").first).to_contain_text("only for Bob")

    # Typed in the page: shown at once, confirmed by its stored seq.
    ada_page.fill("#message-body", "typed here 👋 שלום")
    ada_page.press("#message-body", "Enter")
    expect(ada_page.locator("#messages li.message[data-seq='2']")).to_contain_text(
        "typed here 👋 שלום"
    )

    ada_page.reload()
    expect(ada_page.locator("#connection")).to_have_attribute("data-state", "live")
    expect(ada_messages).to_have_count(2)
    assert [ada_messages.nth(i).get_attribute("data-seq") for i in range(2)] == [
        "1",
        "2",
    ]
    api_post(server.url, ada, "after the reload")
    expect(ada_messages).to_have_count(3)

    # HTML in a message is text: no element was made from it and no script ran.
    assert ada_page.locator("#messages img").count() == 0
    assert ada_page.dialogs == [] and ada_page.errors == []
    assert bob_page.errors == []
    expect(bob_page.locator("#messages li.message")).to_have_count(1)


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


def test_a_page_whose_token_opens_nothing_offers_a_new_conversation(live_server, new_page):
    server = live_server()
    page = new_page()
    visitor = start_chat(page, server.url, "Ada")
    # A stored token that no longer opens the conversation (the server answers 404, as for
    # one that does not exist): the page forgets it and offers to start again.
    forged = {**visitor, "token": "A" * 43}
    page.evaluate("v => localStorage.setItem('devtone.visitor', JSON.stringify(v))", forged)
    page.reload()
    expect(page.locator("#start-form")).to_be_visible(timeout=15_000)
    expect(page.locator("#start-notice")).to_have_text(
        "Your previous conversation is no longer available. Start a new one."
    )
    expect(page.locator("#connection")).not_to_have_attribute("data-state", "live")
