"""The widget as a site brands it: its title, colour, greeting, side and language, inside
the frame as on the launcher, with devtone's name nowhere."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import FAST_TIMINGS
from tests.conftest import ON_SQLITE

pytestmark = [pytest.mark.browser, ON_SQLITE]  # what it looks at is the same on both stacks

LAUNCHER = "devtone-widget >> #launcher"
BRANDED = (
    'data-title="Loja Azul" data-color="#0a7d32" data-position="left" data-locale="pt-BR"'
    ' data-greeting="Olá! Como podemos ajudar?"'
)


def _frame(page, server):
    return next(f for f in page.frames if f.url.startswith(f"{server.url}/embed"))


def test_a_branded_widget_carries_the_sites_look_and_language_into_the_chat(
    live_server, host_site, new_page
):
    server = live_server(**FAST_TIMINGS, DEVTONE_EMBED_ORIGINS=host_site.origin)
    page = new_page(locale="en-US")  # the site's locale option wins over the browser's
    page.goto(host_site.page("shop.html", server.url, BRANDED))
    launcher = page.locator(LAUNCHER)
    expect(launcher).to_have_attribute("aria-label", "Loja Azul", timeout=15_000)
    box = launcher.bounding_box()
    assert box["x"] < page.viewport_size["width"] / 2  # data-position="left"

    launcher.click()
    chat = page.frame_locator("devtone-widget >> #frame")
    expect(chat.locator("html")).to_have_attribute("lang", "pt-BR", timeout=15_000)
    expect(chat.locator(".chat__title")).to_have_text("Loja Azul")
    expect(chat.locator(".greeting__text")).to_have_text("Olá! Como podemos ajudar?")
    expect(chat.locator("label[for=start-name]")).to_have_text("Seu nome")
    expect(page.locator("devtone-widget >> #close")).to_have_attribute(
        "aria-label", "Fechar o chat"
    )
    frame = _frame(page, server)
    send = frame.evaluate(
        "getComputedStyle(document.querySelector('#start-form [type=submit]')).backgroundColor"
    )
    assert send == "rgb(10, 125, 50)"
    assert "devtone" not in frame.evaluate("document.body.innerText + document.title").lower()
    assert page.errors == []


@pytest.mark.parametrize(
    ("locale", "title"), [("pt-BR", "Fale conosco"), ("en-US", "Chat with us")]
)
def test_a_widget_without_a_title_says_chat_with_us_in_the_visitors_language(
    live_server, host_site, new_page, locale, title
):
    server = live_server(**FAST_TIMINGS, DEVTONE_EMBED_ORIGINS=host_site.origin)
    page = new_page(locale=locale)
    page.goto(host_site.page("plain.html", server.url))
    expect(page.locator(LAUNCHER)).to_have_attribute("aria-label", title, timeout=15_000)
    page.locator(LAUNCHER).click()
    expect(page.frame_locator("devtone-widget >> #frame").locator(".chat__title")).to_be_visible(
        timeout=15_000
    )
    frame = _frame(page, server)
    assert "devtone" not in frame.evaluate("document.body.innerText + document.title").lower()
