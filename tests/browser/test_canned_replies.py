"""Canned replies in the dashboard: "/" in the reply box, the keyboard only, and the page
that keeps them."""

import pytest
from playwright.sync_api import expect

from devtone.domain import canned_replies
from tests.browser.conftest import FAST_TIMINGS
from tests.browser.dashboard_pages import list_item, sign_in
from tests.browser.pages import start_chat
from tests.conftest import ON_SQLITE

pytestmark = [pytest.mark.browser, ON_SQLITE]  # a list and a key: the same on both stacks


def _save(app, who, shortcut, text, shared=False):
    with app.app_context():
        canned_replies.create_reply(
            who.identity, {"shortcut": shortcut, "text": text, "shared": shared}
        )


def _open_conversation(live_server, new_page, agent, name="Ada", locale=None):
    server = live_server(**FAST_TIMINGS)
    customer = new_page()
    visitor = start_chat(customer, server.url, name)
    desk = new_page(locale=locale)
    sign_in(desk, server.url, agent)
    item = list_item(desk, visitor["conversationId"])
    expect(item).to_have_count(1, timeout=15_000)
    item.click()
    expect(desk.locator("#transcript-messages")).to_contain_text("Hi, I have a question")
    return server, customer, desk, visitor


def test_slash_lists_the_replies_and_the_keyboard_inserts_one_filled_in(
    app, live_server, new_page, agent, admin
):
    _save(app, admin, "thanks", "Thank you, {visitor.name}! — {agent.name}", shared=True)
    _save(app, agent, "ticket", "Your ticket is #{conversation.id}.")
    _save(app, agent, "bye", "Have a nice day")
    _server, customer, desk, visitor = _open_conversation(live_server, new_page, agent)
    box, picker = desk.locator("#reply-body"), desk.locator("#canned-picker")

    box.press("/")
    expect(picker).to_be_visible(timeout=15_000)
    options = picker.locator("[role=option]")
    expect(options).to_have_count(3)
    expect(box).to_have_attribute("aria-controls", "canned-picker")
    expect(box).to_have_attribute("aria-activedescendant", "canned-picker-option-0")

    # Filtered as the agent types: by shortcut, then by text.
    box.press_sequentially("t")
    expect(options).to_have_count(2)  # /thanks and /ticket
    box.press_sequentially("ic")
    expect(options).to_have_count(1)
    box.press("Backspace")
    box.press("Backspace")
    expect(options).to_have_count(2)
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")  # the first, after each key
    box.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", "canned-picker-option-1")
    box.press("ArrowUp")
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")
    expect(options.nth(0)).to_have_attribute("data-shortcut", "thanks")

    # Enter inserts it filled in (and sends nothing); the agent edits, then Enter sends.
    box.press("Enter")
    expect(picker).to_be_hidden()
    expect(box).to_have_value("Thank you, Ada! — Maria")
    box.press("End")
    box.press_sequentially(" :)")
    box.press("Enter")
    expect(customer.locator("#messages")).to_contain_text(
        "Thank you, Ada! — Maria :)", timeout=15_000
    )

    # After other words too; Esc closes the list and keeps the text (and the transcript).
    box.fill("")
    box.press_sequentially("Sure. /tick")
    expect(options).to_have_count(1)
    box.press("Escape")
    expect(picker).to_be_hidden()
    expect(box).to_have_value("Sure. /tick")
    expect(desk.locator("#transcript")).to_be_visible()
    box.press("Backspace")
    box.press("k")  # typing again opens it again
    expect(options).to_have_count(1)
    box.press("Enter")
    expect(box).to_have_value(f"Sure. Your ticket is #{visitor['conversationId']}.")


def test_a_slash_inside_a_word_opens_nothing_and_no_match_says_so(
    app, live_server, new_page, agent
):
    _save(app, agent, "bye", "Have a nice day")
    _server, _customer, desk, _visitor = _open_conversation(live_server, new_page, agent)
    box, picker = desk.locator("#reply-body"), desk.locator("#canned-picker")
    box.press_sequentially("and/or")
    expect(picker).to_be_hidden()
    box.fill("")
    box.press_sequentially("/zzz")
    expect(picker).to_contain_text("No canned reply matches.", timeout=15_000)
    box.press("Enter")  # nothing to insert: the list closes, nothing is sent
    expect(picker).to_be_hidden()
    expect(box).to_have_value("/zzz")


def test_another_agents_own_replies_are_never_listed(app, live_server, new_page, agent, make_agent):
    joana = make_agent("Joana")
    _save(app, joana, "secret", "Joana's own")
    _save(app, agent, "mine", "Maria's own")
    _server, _customer, desk, _visitor = _open_conversation(live_server, new_page, agent)
    desk.locator("#reply-body").press("/")
    options = desk.locator("#canned-picker [role=option]")
    expect(options).to_have_count(1, timeout=15_000)
    expect(options.first).to_have_attribute("data-shortcut", "mine")


def test_the_page_keeps_an_agents_replies_in_portuguese(live_server, new_page, agent):
    server = live_server(**FAST_TIMINGS)
    desk = new_page(locale="pt-BR")
    sign_in(desk, server.url, agent)
    desk.click("text=Respostas prontas")
    expect(desk.locator("h1")).to_have_text("Respostas prontas")
    expect(desk.locator(".canned-replies__empty")).to_have_text("Nenhuma resposta pronta ainda.")
    desk.fill("#new-shortcut", "obrigado")
    desk.fill("#new-text", "Obrigado pelo contato, {visitor.name}!")
    desk.click("#add-reply button[type=submit]")
    expect(desk.locator(".notice")).to_have_text("Resposta /obrigado salva.")
    expect(desk.locator("#new-shared")).to_have_count(0)  # team replies are for admins
    # The same shortcut again: refused, saying why, in Portuguese.
    desk.fill("#new-shortcut", "Obrigado")
    desk.fill("#new-text", "De novo")
    desk.click("#add-reply button[type=submit]")
    expect(desk.locator("#add-reply [role=alert]")).to_have_text(
        "Já existe uma resposta com o atalho /obrigado."
    )
    reply = desk.locator(".canned-reply")
    expect(reply).to_have_count(1)
    reply.locator("button[value=delete]").click()
    expect(desk.locator(".notice")).to_have_text("Resposta excluída.")
    expect(desk.locator(".canned-reply")).to_have_count(0)
