"""An agent and a customer in two browser contexts: the whole support flow, on every tier."""

import re
import threading
import uuid

import pytest
import requests
from playwright.sync_api import expect

from devtone.domain import conversations
from tests.browser.conftest import FAST_TIMINGS
from tests.browser.dashboard_pages import (
    expect_dashboard_tier,
    filter_count,
    force_tier,
    list_item,
    reply,
    sign_in,
    stat,
)
from tests.browser.pages import api_post, start_chat, type_message
from tests.conftest import ON_SQLITE

pytestmark = pytest.mark.browser

DASHBOARD_STATE = {"sse": "live", "longpoll": "polling", "poll": "polling"}


@pytest.mark.parametrize("tier", ["sse", "longpoll", "poll"])
def test_customer_and_agent_chat_with_live_status_unread_typing_seen_and_close(
    live_server, new_page, agent, tier
):
    server = live_server(**FAST_TIMINGS)
    desk = new_page()
    force_tier(desk, tier)
    sign_in(desk, server.url, agent)
    expect_dashboard_tier(desk, DASHBOARD_STATE[tier], tier)
    expect(stat(desk, "waiting")).to_have_text("0")

    # The customer's first message starts a conversation: it appears in the agent's list
    # without a reload, unread, before anyone opened it.
    customer = new_page()
    visitor = start_chat(customer, server.url, "Ada", first="Hello, my order is late")
    item = list_item(desk, visitor["conversationId"])
    expect(item).to_have_count(1, timeout=15_000)
    expect(item).to_have_attribute("data-status", "waiting")
    expect(filter_count(desk, "waiting")).to_have_text("1")
    expect(stat(desk, "waiting")).to_have_text("1")
    expect(customer.locator("#conversation-status")).to_contain_text("Waiting")
    expect(item).to_have_attribute("data-unread", "1", timeout=15_000)

    # The agent opens it (reading clears unread) and takes it: both see the change.
    item.click()
    transcript = desk.locator("#transcript")
    expect(transcript).to_have_attribute("data-conversation-id", str(visitor["conversationId"]))
    expect(desk.locator("#transcript-messages")).to_contain_text("Hello, my order is late")
    desk.click("#assign-button")
    expect(desk.locator("#transcript-status")).to_have_text("Active", timeout=15_000)
    expect(item).to_have_attribute("data-status", "active", timeout=15_000)
    expect(customer.locator("#messages")).to_contain_text("Maria joined the conversation.")
    expect(customer.locator("#conversation-status")).to_contain_text("Maria")
    expect(filter_count(desk, "mine")).to_have_text("1")
    expect(item).to_have_attribute("data-unread", "0", timeout=15_000)
    # …and the customer sees that an agent read the message.
    expect(customer.locator(".message__seen")).to_have_count(1, timeout=15_000)

    # Messages both ways.
    reply(desk, "Sorry! Let me check.")
    expect(customer.locator("#messages")).to_contain_text("Sorry! Let me check.", timeout=15_000)
    type_message(customer, "Order 1234")
    expect(desk.locator("#transcript-messages")).to_contain_text("Order 1234", timeout=15_000)

    # Typing: the agent's typing reaches the customer (whose page is on SSE).
    desk.fill("#reply-body", "It ships tod")
    desk.locator("#reply-body").press("a")
    expect(customer.locator("#typing")).to_be_visible(timeout=15_000)
    expect(customer.locator("#typing")).to_contain_text("Maria")
    # Typing travels on every tier: a stream pushes it, it wakes a waiting long-poll, and
    # a poll answer shows who is typing now.
    customer.fill("#message-body", "Thank")
    customer.locator("#message-body").press("s")
    expect(desk.locator("#transcript-typing")).to_be_visible(timeout=15_000)
    desk.fill("#reply-body", "")

    # Unread while the transcript is closed, cleared when it is read.
    desk.keyboard.press("Escape")
    expect(transcript).to_be_hidden()
    type_message(customer, "Any news?")
    type_message(customer, "Hello?")
    expect(item).to_have_attribute("data-unread", "2", timeout=15_000)
    expect(item.locator(".unread-badge")).to_have_text("2")
    item.click()
    expect(item).to_have_attribute("data-unread", "0", timeout=15_000)

    # The agent closes it; the customer sees it closed.
    desk.click("#close-button")
    expect(desk.locator("#transcript-status")).to_have_text("Closed", timeout=15_000)
    expect(customer.locator("#closed-notice")).to_be_visible(timeout=15_000)
    expect(filter_count(desk, "closed")).to_have_text("1", timeout=15_000)

    # The counters end the same on every tier.
    expect(stat(desk, "waiting")).to_have_text("0", timeout=15_000)
    expect(stat(desk, "active")).to_have_text("0")
    expect(stat(desk, "closed_today")).to_have_text("1")
    expect(stat(desk, "messages_today")).to_have_text("5")
    expect(filter_count(desk, "open")).to_have_text("0")
    assert desk.errors == [] and customer.errors == []


def test_thirty_conversations_started_at_once_each_appear_once(live_server, new_page, agent):
    server = live_server(**FAST_TIMINGS)
    desk = new_page()
    sign_in(desk, server.url, agent)
    expect_dashboard_tier(desk, "live", "sse")
    started, failures = [], []

    def start(n):
        try:
            answer = requests.post(
                f"{server.url}/api/conversations", json={"name": f"Customer {n}"}, timeout=20
            )
            body = answer.json()
            headers = {"Authorization": f"Bearer {body['token']}"}
            posted = requests.post(
                f"{server.url}/api/conversations/{body['conversation']['id']}/messages",
                json={"body": f"question {n}", "client_id": str(uuid.uuid4())},
                headers=headers,
                timeout=20,
            )
            assert posted.status_code == 201, posted.text
            started.append(body["conversation"]["id"])
        except Exception as error:
            failures.append(repr(error))

    threads = [threading.Thread(target=start, args=(n,)) for n in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == [] and len(started) == 30

    items = desk.locator("#conversation-list li[data-conversation-id]")
    expect(items).to_have_count(30, timeout=20_000)
    expect(filter_count(desk, "waiting")).to_have_text("30")
    expect(stat(desk, "waiting")).to_have_text("30")
    expect(stat(desk, "messages_today")).to_have_text("30")
    listed = items.evaluate_all("items => items.map(li => Number(li.dataset.conversationId))")
    assert sorted(listed) == sorted(started)
    unread = items.evaluate_all("items => items.map(li => li.dataset.unread)")
    assert unread == ["1"] * 30
    # Newest activity first, and the tab shows how many wait.
    assert desk.title().startswith("(30)")


@ON_SQLITE  # a form, a frame, a key: the same on both stacks
def test_the_list_is_used_from_the_keyboard(live_server, new_page, start_visitor, agent):
    server = live_server(**FAST_TIMINGS)
    older, newer = start_visitor("Older"), start_visitor("Newer")
    for visitor in (older, newer):  # listed from their first message
        api_post(server.url, {"conversationId": visitor.id, "token": visitor.token}, "hi")
    desk = new_page()
    sign_in(desk, server.url, agent)
    expect(desk.locator("#conversation-list li[data-conversation-id]")).to_have_count(2)
    first = desk.locator("#conversation-list li[data-conversation-id]").first
    first.focus()
    desk.keyboard.press("ArrowDown")
    desk.keyboard.press("Enter")
    transcript = desk.locator("#transcript")
    # Newest activity first: the second row is the older conversation.
    expect(transcript).to_have_attribute("data-conversation-id", str(older.id))
    expect(desk.locator("#transcript-visitor")).to_have_text("Older")
    # Opening puts the focus in the reply box (once the history is in); back in the list,
    # the arrows go on.
    expect(desk.locator("#reply-body")).to_be_focused()
    list_item(desk, older.id).focus()
    desk.keyboard.press("ArrowUp")
    desk.keyboard.press("Enter")
    expect(transcript).to_have_attribute("data-conversation-id", str(newer.id))
    desk.keyboard.press("Escape")
    expect(transcript).to_be_hidden()


# The feeds must not find out about the ended session on their own in the middle of a test
# (a late ping under load makes the watchdog reconnect): a long heartbeat.
QUIET_FEEDS = {"DEVTONE_SSE_HEARTBEAT": "15"}


def _open_and_follow(desk, conversation_id):
    """Open the conversation and wait until its own feed is streaming: a feed that first
    connects after the cookies are gone ends the session before the test's reply."""
    events = re.compile(rf"/api/conversations/{conversation_id}/events")
    with desk.expect_response(events) as stream:
        list_item(desk, conversation_id).click()
    assert stream.value.status == 200
    expect(desk.locator("#reply-body")).to_be_focused()


def _sent_once(app, desk, conversation_id, body):
    """The reply shows once, stored, and the conversation's log holds it once."""
    sent = desk.locator("#transcript .message:not(.message--pending)", has_text=body)
    expect(sent).to_have_count(1, timeout=15_000)
    with app.app_context():
        log = conversations.messages_after(conversation_id, None, 0).messages
    assert [m["body"] for m in log if m["sender"] == "agent" and m["kind"] == "text"] == [body]


@pytest.fixture
def following(live_server, new_page, start_visitor, agent):
    """An agent's page following Ada's conversation, its own stream open: (url, id, page)."""
    server = live_server(**QUIET_FEEDS)
    customer = start_visitor("Ada")
    api_post(server.url, {"conversationId": customer.id, "token": customer.token}, "Olá")
    desk = new_page()
    sign_in(desk, server.url, agent)
    _open_and_follow(desk, customer.id)
    return server.url, customer.id, desk


def test_a_reply_sent_as_the_session_ends_is_kept_and_sent_once_after_signing_in_again(
    app, following, agent
):
    url, conversation_id, desk = following
    desk.context.clear_cookies()  # signed out elsewhere, or the session expired
    reply(desk, "Your order ships today ✅")  # its POST is answered 401
    expect(desk.locator("#session-ended")).to_be_visible(timeout=15_000)

    sign_in(desk, url, agent)
    list_item(desk, conversation_id).click()
    _sent_once(app, desk, conversation_id, "Your order ships today ✅")
    assert desk.errors == []


@ON_SQLITE  # a form, a frame, a key: the same on both stacks
def test_a_reply_being_typed_when_the_session_ends_waits_in_the_composer_after_signing_in(
    app, following, agent
):
    url, conversation_id, desk = following
    desk.fill("#reply-body", "Let me check your order…")

    desk.context.clear_cookies()
    # Back from the back/forward cache: every feed reconnects at once, and is refused.
    desk.evaluate("window.dispatchEvent(new PageTransitionEvent('pageshow', {persisted: true}))")
    expect(desk.locator("#session-ended")).to_be_visible(timeout=15_000)

    sign_in(desk, url, agent)
    list_item(desk, conversation_id).click()
    expect(desk.locator("#reply-body")).to_have_value("Let me check your order…")
    desk.press("#reply-body", "Enter")  # never sent by itself: the agent sends it
    _sent_once(app, desk, conversation_id, "Let me check your order…")
    assert desk.errors == []


@ON_SQLITE  # a form, a toggle, a key: the same on both stacks
def test_a_note_being_typed_when_the_session_ends_comes_back_as_a_note_never_a_reply(
    app, following, agent
):
    url, conversation_id, desk = following
    desk.check("#reply-as-note")
    desk.fill("#reply-body", "Customer is lying about the delivery")

    desk.context.clear_cookies()
    desk.evaluate("window.dispatchEvent(new PageTransitionEvent('pageshow', {persisted: true}))")
    expect(desk.locator("#session-ended")).to_be_visible(timeout=15_000)

    sign_in(desk, url, agent)
    list_item(desk, conversation_id).click()
    expect(desk.locator("#reply-body")).to_have_value("Customer is lying about the delivery")
    expect(desk.locator("#reply-as-note")).to_be_checked()
    desk.press("#reply-body", "Enter")
    # Stored, not only shown: a pending note shows at once, before the server has it.
    note = desk.locator(
        "#transcript .message--note:not(.message--pending)", has_text="Customer is lying"
    )
    expect(note).to_have_count(1, timeout=15_000)
    with app.app_context():
        log = conversations.messages_after(conversation_id, None, 0).messages
    assert [m["kind"] for m in log if m["body"].startswith("Customer is lying")] == ["note"]
    assert desk.errors == []
