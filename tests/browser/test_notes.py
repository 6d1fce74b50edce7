"""Private notes in the browser: an agent writes one from the dashboard's composer (its
toggle), it shows in the transcript as a note, and the visitor's chat page never shows it
on any tier while the reply written after it arrives once; the widget neither; a note that
mentions an agent alerts them."""

import re
import uuid

import pytest
import requests
from playwright.sync_api import expect

from devtone.domain import conversations
from devtone.domain.visitors import Visitor
from tests.browser.conftest import FAST_TIMINGS
from tests.browser.dashboard_pages import (
    expect_dashboard_tier,
    force_tier,
    list_item,
    reply,
    sign_in,
)
from tests.browser.host_site import AgentSession
from tests.browser.pages import FIRST, start_chat
from tests.browser.test_alerts import INSTRUMENT, alerting
from tests.browser.test_widget import BADGE, LAUNCHER, _chat_frame, _serve, _start_in_widget
from tests.conftest import ON_SQLITE

pytestmark = pytest.mark.browser

STATE = {"sse": "live", "longpoll": "polling", "poll": "polling"}
NOTE = "Internal: refund already approved <b>by Lee</b>"


def write_note(page, body):
    """Switch the composer to a note, write `body`, send it, switch back to replies."""
    page.check("#reply-as-note")
    expect(page.locator("#reply-form")).to_have_class("composer composer--note")
    reply(page, body)
    page.uncheck("#reply-as-note")


def post_note(desk, conversation_id, body):
    answer = desk.session.post(
        f"{desk.url}/api/conversations/{conversation_id}/messages",
        json={"body": body, "client_id": str(uuid.uuid4()), "kind": "note"},
        headers={"X-CSRFToken": desk.csrf},
        timeout=10,
    )
    assert answer.status_code == 201, answer.text
    return answer.json()["message"]


@pytest.mark.parametrize("tier", ["sse", "longpoll", "poll"])
def test_a_note_shows_on_the_dashboard_and_never_on_the_chat_page(
    live_server, new_page, agent, tier
):
    server = live_server(**FAST_TIMINGS)
    customer = new_page()
    force_tier(customer, tier)
    visitor = start_chat(customer, server.url, "Ada", state=STATE[tier], tier=tier)

    desk = new_page()
    sign_in(desk, server.url, agent)
    expect_dashboard_tier(desk, "live", "sse")
    list_item(desk, visitor["conversationId"]).click()
    expect(desk.locator("#transcript-messages")).to_contain_text(FIRST)

    write_note(desk, NOTE)
    note = desk.locator("#transcript-messages li.message--note")
    expect(note).to_have_count(1, timeout=15_000)
    expect(note).to_have_attribute("data-kind", "note")
    expect(note.locator(".message__body")).to_have_text(NOTE)
    expect(note.locator(".message__note-label")).to_have_text("Private note")
    expect(note).not_to_have_attribute("data-seq", "")  # stored, not pending
    # No "delivered"/"seen" on a note: the visitor never gets it.
    expect(note.locator(".message__state")).to_have_count(0)

    reply(desk, "Your refund is on its way.")
    messages = customer.locator("#messages li.message")
    expect(customer.locator("#messages")).to_contain_text(
        "Your refund is on its way.", timeout=15_000
    )
    # The note's seq was skipped without a gap: everything else shows once, in order.
    seqs = [int(seq) for seq in messages.evaluate_all("items => items.map(li => li.dataset.seq)")]
    assert seqs == sorted(set(seqs)), seqs
    note_seq = int(note.get_attribute("data-seq"))
    assert note_seq not in seqs and max(seqs) > note_seq
    assert "refund already approved" not in customer.locator("#messages").inner_text()
    assert customer.locator(".message--note").count() == 0
    assert customer.errors == [] and desk.errors == []


def test_the_widget_neither_shows_nor_counts_a_note(live_server, host_site, new_page, agent):
    server = _serve(live_server, host_site)
    page = new_page()
    page.goto(host_site.page("shop.html", server.url))
    _start_in_widget(page)
    page.evaluate("devtone.close()")
    desk = AgentSession(server.url, agent)
    conversation_id = desk.conversation_of("Ada")
    post_note(desk, conversation_id, "Check her order history first")
    desk.say(conversation_id, "Your parcel left today.")
    # Counted once: the reply, not the note.
    expect(page.locator(BADGE)).to_have_text("1", timeout=15_000)
    page.click(LAUNCHER)
    frame = _chat_frame(page)
    expect(frame.locator("#messages")).to_contain_text("Your parcel left today.")
    expect(frame.locator("#messages")).not_to_contain_text("order history")
    assert page.errors == []


def test_a_note_that_mentions_an_agent_alerts_them_outside_their_view(
    app, browser, live_server, start_visitor, make_agent
):
    maria, lee = make_agent("Maria"), make_agent("Lee Ann")
    ada = start_visitor("Ada")
    with app.app_context():
        conversations.post_message(ada.id, Visitor(ada.token), "Hello")
        conversations.assign_conversation(ada.id, maria.identity)  # Maria's, not Lee's
    server = live_server(**FAST_TIMINGS, DEVTONE_ALERT_REPEAT_SECONDS="0.4")
    context = browser.new_context(permissions=["notifications"])
    context.add_init_script(INSTRUMENT)
    page = context.new_page()
    sign_in(page, server.url, lee)
    expect_dashboard_tier(page, "live", "sse")

    desk = AgentSession(server.url, maria)
    post_note(desk, ada.id, "Nothing for Lee here")
    post_note(desk, ada.id, "@lee ann could you check the invoice?")

    expect(alerting(page)).to_have_attribute("data-alerting", str(ada.id), timeout=15_000)
    page.wait_for_function("() => window.__sounds >= 1 && window.__notifications.length >= 1")
    assert page.evaluate("window.__notifications[0].title") == (
        "You were mentioned in a note on Ada's conversation"
    )
    # Opening the conversation ends it.
    list_item(page, ada.id).click()
    expect(page.locator("#transcript-messages")).to_contain_text("could you check the invoice?")
    expect(alerting(page)).to_have_attribute("data-alerting", "")
    context.close()


def test_two_chat_tabs_show_each_reply_once_and_no_note(browser, live_server, agent):
    server = live_server(**FAST_TIMINGS)
    context = browser.new_context()
    leader = context.new_page()
    visitor = start_chat(leader, server.url, "Ada")
    follower = context.new_page()
    follower.goto(f"{server.url}/chat")
    expect(follower.locator("#messages")).to_contain_text(FIRST)
    desk = AgentSession(server.url, agent)
    conversation_id = visitor["conversationId"]
    replies = []
    for n in range(3):  # the follower hears each reply past a note's seq: no gap, no twice
        post_note(desk, conversation_id, f"note {n} for the team")
        replies.append(desk.say(conversation_id, f"reply {n}")["body"])
    for tab in (leader, follower):
        for body in replies:
            expect(
                tab.locator("#messages .message__body", has_text=re.compile(f"^{body}$"))
            ).to_have_count(1, timeout=15_000)
        assert "for the team" not in tab.locator("#messages").inner_text()
        seqs = tab.locator("#messages li.message").evaluate_all(
            "items => items.map(li => Number(li.dataset.seq))"
        )
        assert seqs == sorted(set(seqs)), seqs
    context.close()


@ON_SQLITE  # a page's look: the same on both stacks
@pytest.mark.parametrize(
    ("theme", "locale", "label", "add"),
    [
        ("light", "en-US", "Private note", "Add note"),
        ("dark", "pt-BR", "Nota interna", "Adicionar nota"),
    ],
)
def test_a_note_and_the_note_composer_look_unlike_a_reply_in_both_themes(
    app, live_server, new_page, start_visitor, agent, theme, locale, label, add
):
    ada = start_visitor("Ada")
    with app.app_context():
        conversations.post_message(ada.id, Visitor(ada.token), "Hello")
        conversations.post_message(ada.id, agent.identity, "Hi Ada!")
        conversations.post_message(ada.id, agent.identity, "VIP, be quick", None, "note")
    server = live_server(**FAST_TIMINGS)
    page = new_page(color_scheme=theme, locale=locale)
    sign_in(page, server.url, agent)
    list_item(page, ada.id).click()
    note = page.locator("#transcript-messages li.message--note")
    answer = page.locator("#transcript-messages li.message--agent:not(.message--note)")
    expect(note).to_have_count(1)
    expect(note.locator(".message__note-label")).to_have_text(label)
    background = "el => getComputedStyle(el).backgroundColor"
    assert note.evaluate(background) != answer.evaluate(background)
    body = page.locator("#reply-body")
    as_reply = body.evaluate(background)
    page.check("#reply-as-note")
    assert body.evaluate(background) != as_reply
    expect(page.locator("#reply-form button[type=submit]")).to_have_text(add)


@ON_SQLITE  # a refusal: the same on both stacks
def test_a_visitors_note_through_the_api_is_refused(live_server, new_page):
    server = live_server(**FAST_TIMINGS)
    customer = new_page()
    visitor = start_chat(customer, server.url, "Ada")
    answer = requests.post(
        f"{server.url}/api/conversations/{visitor['conversationId']}/messages",
        json={"body": "let me see", "client_id": str(uuid.uuid4()), "kind": "note"},
        headers={"Authorization": f"Bearer {visitor['token']}"},
        timeout=10,
    )
    assert answer.status_code == 403
