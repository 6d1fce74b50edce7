"""Delivery states on the author's screen, both ways and on every tier: sending → sent →
delivered → seen, and a refused message that stays, failed, with Retry and Discard."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import FAST_TIMINGS
from tests.browser.dashboard_pages import (
    expect_dashboard_tier,
    force_tier,
    list_item,
    reply,
    sign_in,
)
from tests.browser.pages import FIRST, start_chat, type_message

pytestmark = pytest.mark.browser

STATE = {"sse": "live", "longpoll": "polling", "poll": "polling"}
POST_MESSAGE = re.compile(r"/api/conversations/\d+/messages$")


def message(page, list_id, body):
    """The <li> of the message whose body is exactly `body` (no prefix can match)."""
    return page.locator(f"#{list_id} li.message").filter(has=page.get_by_text(body, exact=True))


def expect_state(li, state, label):
    expect(li).to_have_attribute("data-state", state, timeout=15_000)
    mark = li.locator(".message__state")
    expect(mark).to_have_attribute("data-state", state)
    expect(mark).to_have_attribute("title", label)


class HeldPosts:
    """Holds this page's message POSTs until `release()`: the message stays "sending"."""

    def __init__(self, page):
        self.page = page
        self.routes = []
        page.route(POST_MESSAGE, self._hold)

    def _hold(self, route):
        if route.request.method == "POST":
            self.routes.append(route)
        else:
            route.continue_()

    def release(self):
        for route in self.routes:
            route.continue_()
        self.page.unroute(POST_MESSAGE, self._hold)


def set_visible(page, visible):
    """The person switches to another tab (or back): what `document.visibilityState` says."""
    page.evaluate(
        """visible => {
            Object.defineProperty(document, "visibilityState", {
                configurable: true, get: () => (visible ? "visible" : "hidden"),
            });
            document.dispatchEvent(new Event("visibilitychange"));
        }""",
        visible,
    )


@pytest.mark.parametrize("tier", ["sse", "longpoll", "poll"])
def test_each_side_sees_its_messages_go_sending_sent_delivered_seen(
    live_server, new_page, agent, tier
):
    server = live_server(**FAST_TIMINGS)
    customer = new_page()
    force_tier(customer, tier)
    start_chat(customer, server.url, "Ada", state=STATE[tier], tier=tier)

    # Sending until the server has it, then sent: no agent's client has it yet.
    held = HeldPosts(customer)
    type_message(customer, "Is it in stock?")
    question = message(customer, "messages", "Is it in stock?")
    expect_state(question, "sending", "Sending")
    held.release()
    expect_state(question, "sent", "Sent")
    first = message(customer, "messages", FIRST)
    expect_state(first, "sent", "Sent")

    # An agent's dashboard receives the conversation: delivered, not seen.
    desk = new_page()
    force_tier(desk, tier)
    sign_in(desk, server.url, agent)
    expect_dashboard_tier(desk, STATE[tier], tier)
    expect_state(question, "delivered", "Delivered")
    expect_state(first, "delivered", "Delivered")

    # The agent opens it: seen, on the customer's screen, without a reload.
    list_item(desk, customer_conversation(customer)).click()
    expect(desk.locator("#transcript-messages")).to_contain_text("Is it in stock?")
    expect_state(question, "seen", "Seen")
    expect_state(first, "seen", "Seen")

    # The agent's reply, while the customer looks at another tab: delivered, not seen;
    # the dashboard's list says so too.
    set_visible(customer, False)
    held = HeldPosts(desk)
    reply(desk, "Yes, two left.")
    answer = message(desk, "transcript-messages", "Yes, two left.")
    expect_state(answer, "sending", "Sending")
    held.release()
    expect(customer.locator("#messages")).to_contain_text("Yes, two left.", timeout=15_000)
    expect_state(answer, "delivered", "Delivered")
    item = list_item(desk, customer_conversation(customer))
    expect(item).to_have_attribute("data-reply", "unseen", timeout=15_000)
    expect(item.locator(".conversation-item__reply")).to_be_visible()

    # The customer comes back to the tab: seen, and the list no longer flags it.
    set_visible(customer, True)
    expect_state(answer, "seen", "Seen")
    expect(item).to_have_attribute("data-reply", "", timeout=15_000)
    expect(item.locator(".conversation-item__reply")).to_be_hidden()
    assert desk.errors == [] and customer.errors == []


def customer_conversation(page):
    return page.evaluate("JSON.parse(localStorage.getItem('devtone.visitor')).conversationId")


def test_a_refused_message_stays_failed_with_retry_and_discard_across_a_reload(
    live_server, new_page
):
    server = live_server(**FAST_TIMINGS)
    customer = new_page()
    start_chat(customer, server.url, "Ada")
    # A control character: the server refuses the body (422), however often it is sent.
    type_message(customer, "Where is\x01my order")
    refused = customer.locator("#messages li.message--failed")
    expect(refused).to_have_count(1, timeout=15_000)
    expect(refused.locator(".message__state")).to_have_text("Not sent")
    expect(refused.locator(".message__state")).to_have_attribute("data-state", "failed")
    expect(customer.locator("#message-error")).to_be_visible()
    type_message(customer, "Still there?")  # the next one goes on without it
    expect_state(message(customer, "messages", "Still there?"), "sent", "Sent")

    customer.reload()
    refused = customer.locator("#messages li.message--failed")
    expect(refused).to_have_count(1, timeout=15_000)
    expect(refused.locator(".message__body")).to_have_text("Where is\x01my order")
    retry = refused.get_by_role("button", name="Retry")
    discard = refused.get_by_role("button", name="Discard")
    expect(retry).to_be_visible()
    expect(discard).to_be_visible()

    # Retry sends it again (and it is refused again); Discard forgets it for good.
    retry.click()
    expect(customer.locator("#messages li.message--failed")).to_have_count(1, timeout=15_000)
    expect(refused.get_by_role("button", name="Discard")).to_be_visible(timeout=15_000)
    refused.get_by_role("button", name="Discard").click()
    expect(customer.locator("#messages li.message--failed")).to_have_count(0)
    customer.reload()
    expect(message(customer, "messages", "Still there?")).to_have_count(1, timeout=15_000)
    expect(customer.locator("#messages li.message--failed")).to_have_count(0)
    assert (
        customer.evaluate("Object.keys(localStorage).filter(k => k.startsWith('devtone.outbox.'))")
        == []
    )
    assert customer.errors == []
