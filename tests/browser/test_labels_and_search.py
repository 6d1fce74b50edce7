"""Labels and search on the dashboard: an agent labels a conversation (by keyboard), the
other agents' lists show it live on every tier and filter by it, the visitor never sees
it; a search opens the conversation at the matching message, in pt-BR."""

import pytest
from playwright.sync_api import expect

from devtone.domain import conversations, labels
from devtone.domain.visitors import Visitor
from tests.browser.conftest import FAST_TIMINGS
from tests.browser.dashboard_pages import expect_dashboard_tier, force_tier, list_item, sign_in
from tests.browser.pages import start_chat, type_message
from tests.conftest import ON_SQLITE

pytestmark = pytest.mark.browser

DASHBOARD_STATE = {"sse": "live", "longpoll": "polling", "poll": "polling"}


@pytest.mark.parametrize("tier", ["sse", "longpoll", "poll"])
def test_a_label_set_by_one_agent_reaches_the_others_list_live_and_filters_it(
    app, live_server, new_page, admin, agent, make_agent, tier
):
    with app.app_context():
        labels.create_label(admin.identity, "VIP", "teal")
        labels.create_label(admin.identity, "Reembolso", "#c2410c")
    server = live_server(**FAST_TIMINGS)
    customer = new_page()
    ada = start_chat(customer, server.url, "Ada", first="Olá, preciso de ajuda")
    other = new_page()
    bruno = start_chat(other, server.url, "Bruno", first="Oi")

    watcher = new_page()
    force_tier(watcher, tier)
    sign_in(watcher, server.url, make_agent("Joana"))
    expect_dashboard_tier(watcher, DASHBOARD_STATE[tier], tier)
    expect(list_item(watcher, bruno["conversationId"])).to_have_count(1, timeout=15_000)

    desk = new_page()
    sign_in(desk, server.url, agent)
    list_item(desk, ada["conversationId"]).click()
    # By keyboard: the picker's select, then its button.
    desk.focus("#label-add")
    desk.keyboard.press("ArrowDown")
    desk.select_option("#label-add", "VIP")
    desk.focus("#label-add-button")
    desk.keyboard.press("Enter")
    chips = desk.locator("#transcript-labels .label-chip")
    # As long as the other waits here: on a loaded machine (CI under a second suite) the
    # desk's own round trip took longer than the default 5 s once.
    expect(chips).to_have_count(1, timeout=15_000)
    expect(chips).to_contain_text("VIP")
    expect(desk.locator("#transcript-messages")).to_contain_text("Maria added the labels: VIP.")

    item = list_item(watcher, ada["conversationId"])
    expect(item.locator(".label-chip")).to_have_text("VIP", timeout=15_000)
    watcher.select_option("#label-filter", "VIP")
    expect(item).to_be_visible()
    expect(list_item(watcher, bruno["conversationId"])).to_have_count(0)

    # Removed with the chip's × (a button, so Enter works too): gone from every list.
    desk.focus("#transcript-labels .label-chip__remove")
    desk.keyboard.press("Enter")
    expect(chips).to_have_count(0)
    expect(list_item(watcher, ada["conversationId"])).to_have_count(0, timeout=15_000)
    watcher.select_option("#label-filter", "")
    expect(item.locator(".label-chip")).to_have_count(0)

    # The visitor saw neither change, nor any gap: their chat goes on.
    type_message(customer, "Ainda estou aqui")
    expect(customer.locator("#messages")).to_contain_text("Ainda estou aqui")
    expect(customer.locator("#messages")).not_to_contain_text("VIP")
    expect(customer.locator("#messages")).not_to_contain_text("etiquetas")
    assert not desk.errors and not watcher.errors and not customer.errors


@ON_SQLITE
def test_a_search_opens_the_conversation_at_the_matching_message_in_portuguese(
    app, live_server, new_page, agent, start_visitor
):
    with app.app_context():
        joana = start_visitor("Joana Prado")
        me = Visitor(joana.token)
        for n in range(30):
            conversations.post_message(joana.id, me, f"Mensagem de rotina número {n}")
        conversations.post_message(joana.id, me, "O boleto da fatura de março veio duplicado")
        for n in range(30):
            conversations.post_message(joana.id, me, f"Mais uma mensagem {n}")
        outro = start_visitor("Rui")
        conversations.post_message(outro.id, Visitor(outro.token), "Nada a ver")
    server = live_server()
    desk = new_page(locale="pt-BR")
    sign_in(desk, server.url, agent)
    expect(desk.locator("#search-q")).to_have_attribute(
        "placeholder", "Buscar mensagens, nomes, e-mails…"
    )
    desk.fill("#search-q", "boleto")
    desk.press("#search-q", "Enter")
    results = desk.locator("#search-results .search-result")
    expect(results).to_have_count(1)
    expect(desk.locator("#search-summary")).to_have_text("1 resultado")
    expect(results.locator("mark")).to_have_text("boleto")
    expect(results).to_contain_text("O boleto da fatura de março veio duplicado")
    expect(desk.locator("#conversation-list")).to_be_hidden()

    results.click()
    found = desk.locator("#transcript-messages .message--found")
    expect(found).to_have_count(1)
    expect(found).to_contain_text("O boleto da fatura de março veio duplicado")
    expect(found).to_be_in_viewport()
    expect(found).to_be_focused()

    desk.fill("#search-q", "inexistente")
    desk.press("#search-q", "Enter")
    expect(desk.locator("#search-summary")).to_have_text("Nada encontrado.")
    desk.click("#search-clear")
    expect(desk.locator("#conversation-list")).to_be_visible()
    assert not desk.errors
