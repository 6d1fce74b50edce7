"""API tokens in the browser: an admin makes one on the dashboard (shown once), a bot
posts with it, and the visitor's chat and the agent's transcript show the bot's name."""

import uuid

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.conftest import FAST_TIMINGS
from tests.browser.dashboard_pages import list_item, sign_in
from tests.browser.pages import start_chat
from tests.browser.test_dark_mode import BODY_COLOURS, assert_theme
from tests.conftest import ON_SQLITE

pytestmark = [pytest.mark.browser, ON_SQLITE]  # pages and forms: the same on both stacks


def make_token(page, name, scopes):
    """Make a token on the dashboard's page; the token the page shows once."""
    page.click("text=API tokens")
    page.fill("#token-name", name)
    for scope in scopes:
        page.check(f"#add-token input[value='{scope}']")
    page.click("#add-token button[type=submit]")
    expect(page.locator("#token-made")).to_be_visible()
    return page.locator("#new-token").input_value()


def test_a_bots_reply_shows_its_name_on_the_chat_and_the_dashboard(live_server, new_page, admin):
    server = live_server(**FAST_TIMINGS)
    customer = new_page()
    visitor = start_chat(customer, server.url, "Ada")
    desk = new_page()
    sign_in(desk, server.url, admin)
    token = make_token(desk, "Order bot", ["messages:write"])
    assert token.startswith("dtk_")
    answer = requests.post(
        f"{server.url}/api/conversations/{visitor['conversationId']}/messages",
        json={"body": "Your order has shipped.", "client_id": str(uuid.uuid4())},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert answer.status_code == 201, answer.text
    shown = customer.locator("#messages li.message--bot")
    expect(shown).to_have_count(1, timeout=15_000)
    expect(shown.locator(".message__author")).to_have_text("Order bot")
    expect(shown.locator(".message__bot-tag")).to_have_text("Bot")
    expect(shown.locator(".message__body")).to_have_text("Your order has shipped.")
    desk.goto(f"{server.url}/dashboard")
    item = list_item(desk, visitor["conversationId"])
    expect(item).to_contain_text("Order bot: Your order has shipped.", timeout=15_000)
    item.click()
    on_desk = desk.locator("#transcript-messages li.message--bot")
    expect(on_desk.locator(".message__author")).to_have_text("Order bot")
    assert customer.errors == [] and desk.errors == []


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_an_admin_makes_sees_and_revokes_a_token_in_portuguese(live_server, new_page, admin, theme):
    server = live_server(**FAST_TIMINGS)
    desk = new_page(locale="pt-BR", color_scheme=theme)
    sign_in(desk, server.url, admin)
    desk.click("text=Tokens de API")
    expect(desk.locator("h1")).to_have_text("Tokens de API")
    expect(desk.locator(".api-tokens__empty")).to_have_text("Nenhum token de API ainda.")
    assert_theme(desk.evaluate(BODY_COLOURS), theme, f"/dashboard/api-tokens ({theme})")
    # No scope: refused, saying why, and the name is kept.
    desk.fill("#token-name", "<b>Loja</b>")
    desk.click("#add-token button[type=submit]")
    expect(desk.locator("#add-token [role=alert]")).to_have_text("Escolha pelo menos um escopo.")
    expect(desk.locator("#token-name")).to_have_value("<b>Loja</b>")
    desk.check("#add-token input[value='conversations:read']")
    desk.click("#add-token button[type=submit]")
    expect(desk.locator("#token-made h2")).to_have_text("Token “<b>Loja</b>” criado")
    token = desk.locator("#new-token").input_value()
    row = desk.locator("tr[data-token-id]")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("conversations:read")
    expect(row).to_contain_text(f"{token[:10]}…")
    expect(row).to_contain_text("nunca")
    # Shown once: the page again holds only its prefix.
    desk.goto(f"{server.url}/dashboard/api-tokens")
    expect(desk.locator("#token-made")).to_have_count(0)
    assert token not in desk.content()
    desk.locator("tr[data-token-id] button").click()
    expect(desk.locator(".notice")).to_have_text("Token “<b>Loja</b>” revogado.")
    expect(desk.locator("tr[data-token-id]")).to_have_attribute("data-revoked", "true")
    refused = requests.get(
        f"{server.url}/api/dashboard/snapshot",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert refused.status_code == 401
    assert desk.errors == []
