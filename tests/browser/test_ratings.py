"""Satisfaction ratings in the browser: asked once the agent closes the conversation (chat
page and widget), sent once, and seen live in the agent's dashboard on every tier."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import FAST_TIMINGS
from tests.browser.dashboard_pages import (
    expect_dashboard_tier,
    force_tier,
    list_item,
    sign_in,
    stat,
)
from tests.browser.host_site import AgentSession
from tests.browser.pages import start_chat
from tests.conftest import ON_SQLITE

pytestmark = pytest.mark.browser

STATE = {"sse": "live", "longpoll": "polling", "poll": "polling"}


def _rate(page, score, comment=""):
    form = page.locator("#rating-form")
    form.locator(f"label[for='rating-{score}']").click()
    if comment:
        form.locator("#rating-comment").fill(comment)
    form.locator("button[type=submit]").click()


@pytest.mark.parametrize("tier", ["sse", "longpoll", "poll"])
def test_the_visitor_rates_after_the_agent_closes_and_the_agent_sees_it_live(
    live_server, new_page, agent, tier
):
    server = live_server(**FAST_TIMINGS)
    desk = new_page()
    force_tier(desk, tier)
    sign_in(desk, server.url, agent)
    expect_dashboard_tier(desk, STATE[tier], tier)

    customer = new_page()
    force_tier(customer, tier)
    visitor = start_chat(customer, server.url, "Ada", state=STATE[tier], tier=tier)
    expect(customer.locator("#rating-form")).to_be_hidden()  # open: nothing to rate yet

    item = list_item(desk, visitor["conversationId"])
    expect(item).to_have_count(1, timeout=15_000)
    item.click()
    desk.click("#assign-button")  # the per-agent figures go to who had it when it closed
    expect(desk.locator("#transcript-status")).to_have_text("Active", timeout=15_000)
    desk.click("#close-button")
    expect(desk.locator("#transcript-status")).to_have_text("Closed", timeout=15_000)

    # The customer is asked, live, on their tier.
    form = customer.locator("#rating-form")
    expect(form).to_be_visible(timeout=15_000)
    expect(form).to_contain_text("How was this conversation?")
    _rate(customer, 4, "Quick and kind <b>thanks</b>")
    expect(customer.locator("#rating-thanks")).to_have_text("Thank you for your rating!")
    expect(form).to_be_hidden()

    # The agent sees it on the conversation, and in the statistics, without a reload.
    rating = desk.locator("#transcript-rating")
    expect(rating).to_be_visible(timeout=15_000)
    expect(rating).to_have_attribute("data-score", "4")
    expect(rating).to_contain_text("Rated 4 out of 5 — “Quick and kind <b>thanks</b>”")
    expect(stat(desk, "ratings.today")).to_have_text("4.0 · 1 rating", timeout=15_000)
    expect(desk.locator("[data-stat-list='ratings.agents']")).to_have_text("Maria: 4.0 · 1 rating")

    # Once per closing: a reload shows thanks, not the form again.
    customer.reload()
    expect(customer.locator("#rating-thanks")).to_be_visible(timeout=15_000)
    expect(form).to_be_hidden()


@ON_SQLITE  # a form, a frame, a click: the same on both stacks
def test_a_reopened_conversation_is_rated_again_after_the_next_close(live_server, new_page, agent):
    server = live_server(**FAST_TIMINGS)
    customer = new_page()
    visitor = start_chat(customer, server.url, "Ada")
    desk = AgentSession(server.url, agent)
    desk.close(visitor["conversationId"])
    _rate(customer, 2)
    expect(customer.locator("#rating-thanks")).to_be_visible(timeout=15_000)

    customer.fill("#message-body", "Actually, one more thing")
    customer.press("#message-body", "Enter")
    expect(customer.locator("#rating-thanks")).to_be_hidden(timeout=15_000)
    desk.close(visitor["conversationId"])
    expect(customer.locator("#rating-form")).to_be_visible(timeout=15_000)
    _rate(customer, 5)
    expect(customer.locator("#rating-thanks")).to_be_visible(timeout=15_000)


@ON_SQLITE  # a form, a frame, a click: the same on both stacks
def test_the_widget_asks_for_a_rating_once_the_conversation_is_closed(
    live_server, host_site, new_page, agent
):
    server = live_server(**FAST_TIMINGS, DEVTONE_EMBED_ORIGINS=host_site.origin)
    page = new_page()
    page.goto(host_site.page("shop.html", server.url, ""))
    page.click("devtone-widget >> #launcher")
    frame = page.frame_locator("devtone-widget >> #frame")
    frame.locator("#start-name").fill("Ada")
    frame.locator("#start-form button[type=submit]").click()
    frame.locator("#message-body").fill("Is the blue one in stock?")
    frame.locator("#message-body").press("Enter")
    expect(frame.locator("#connection")).to_have_attribute("data-state", "live", timeout=15_000)

    desk = AgentSession(server.url, agent)
    conversation_id = desk.conversation_of("Ada")
    desk.say(conversation_id, "It is!")
    desk.close(conversation_id)
    expect(frame.locator("#rating-form")).to_be_visible(timeout=15_000)
    _rate(frame, 5, "Perfect")
    expect(frame.locator("#rating-thanks")).to_have_text("Thank you for your rating!")
    rated = desk.session.get(f"{server.url}/api/conversations/{conversation_id}", timeout=10)
    assert rated.json()["conversation"]["rating"]["score"] == 5


@ON_SQLITE  # texts only
def test_a_pt_br_visitor_is_asked_in_portuguese(live_server, new_page, agent):
    server = live_server(**FAST_TIMINGS)
    customer = new_page(locale="pt-BR")
    visitor = start_chat(customer, server.url, "Ana", first="Olá, preciso de ajuda")
    AgentSession(server.url, agent).close(visitor["conversationId"])
    form = customer.locator("#rating-form")
    expect(form).to_be_visible(timeout=15_000)
    expect(form).to_contain_text("Como foi este atendimento?")
    expect(form.locator("button[type=submit]")).to_have_text("Enviar avaliação")
    form.locator("button[type=submit]").click()  # no star chosen
    expect(form.locator("#rating-error")).to_have_text("Escolha de 1 a 5 estrelas.")
    _rate(customer, 3)
    expect(customer.locator("#rating-thanks")).to_have_text("Obrigado pela sua avaliação!")
