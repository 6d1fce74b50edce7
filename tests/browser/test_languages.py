"""Every word a person sees, in English and in Brazilian Portuguese.

Each page is read twice, by a browser set to English and by one set to Brazilian
Portuguese. Any text (or title, label, placeholder) that is the same in both, apart from
what people typed and the few words both languages share, was left untranslated: written
straight into a template or a script instead of going through the catalogues.
"""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.dashboard_pages import sign_in
from tests.browser.pages import first_message, start_chat
from tests.conftest import ON_SQLITE
from tests.doctor.broken_proxies import COMPRESSING

pytestmark = pytest.mark.browser

#: The same in both languages: the product's name, protocol names, symbols.
SHARED_WORDS = {"devtone", "E-mail", "Monitor", "SSE", "Long-poll", "Polling", "Webhooks"}

#: Every visible text node, and every attribute a person reads or hears.
READ_TEXTS = """() => {
  const texts = new Set([document.title]);
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    // translate="no" marks data shown as it is (the monitor's event codes), as in HTML.
    const code = node.parentElement?.closest("script, style, [translate=no]");
    if (node.parentElement && !code) texts.add(node.textContent.trim());
  }
  const names = ["title", "aria-label", "placeholder", "alt", "data-empty-text"];
  for (const element of document.querySelectorAll(names.map((n) => `[${n}]`).join(","))) {
    for (const name of names) texts.add((element.getAttribute(name) || "").trim());
  }
  return [...texts].filter((text) => /[A-Za-z]{2}/.test(text));
}"""


def untranslated(english: set[str], portuguese: set[str], typed: set[str]) -> set[str]:
    """Texts a Portuguese reader sees in English."""
    return {
        text
        for text in portuguese & english
        if text not in typed and not set(re.findall(r"[A-Za-z][\w-]*", text)) <= SHARED_WORDS
    }


def read_both(new_page, visit) -> tuple[set[str], set[str]]:
    seen = {}
    for locale in ("en-US", "pt-BR"):
        page = new_page(locale=locale)
        visit(page)
        expect(page.locator("html")).to_have_attribute(
            "lang", "en" if locale == "en-US" else "pt-BR"
        )
        # The account page lists this browser by its user agent: data, like a name.
        seen[locale] = set(page.evaluate(READ_TEXTS)) - {page.evaluate("navigator.userAgent")}
        assert page.errors == []
    return seen["en-US"], seen["pt-BR"]


@ON_SQLITE  # words, the same on both stacks
def test_the_agents_pages_have_no_english_left_in_portuguese(
    live_server, new_page, admin, start_visitor
):
    # Each page is read after its own sign-in: more than the default limit allows a minute.
    server = live_server(
        DEVTONE_LOGIN_RATE_LIMIT="100/minute", DEVTONE_LOGIN_ADDRESS_RATE_LIMIT="100/minute"
    )
    visitor = start_visitor("Ada Lovelace")
    first_message(server.url, visitor, "Olá, my order is late")
    # What people wrote, and the avatar initials made of Ada Lovelace's name.
    typed = {"Ada Lovelace", "AL", "Olá, my order is late", admin.identity.name, admin.email}

    def visit_dashboard(page):
        sign_in(page, server.url, admin)
        page.locator(f"#conversation-list li[data-conversation-id='{visitor.id}']").click()
        expect(page.locator("#transcript")).to_be_visible()

    english, portuguese = read_both(new_page, visit_dashboard)
    assert untranslated(english, portuguese, typed) == set()

    for path in (
        "/dashboard/account",
        "/dashboard/monitor",
        "/dashboard/office-hours",
        "/dashboard/canned-replies",
    ):

        def visit(page, path=path):
            sign_in(page, server.url, admin)
            page.goto(f"{server.url}{path}")

        english, portuguese = read_both(new_page, visit)
        assert untranslated(english, portuguese, typed) == set(), path


@ON_SQLITE  # words, the same on both stacks
def test_the_doctor_and_its_findings_have_no_english_left_in_portuguese(
    live_server, nginx, new_page, admin
):
    server = live_server(
        DEVTONE_SSE_HEARTBEAT="0.5",
        DEVTONE_LONGPOLL_WAIT="1",
        DEVTONE_LOGIN_ADDRESS_RATE_LIMIT="100/minute",
    )
    # Through a compressing nginx: a failure with its fixes, passes and information.
    proxy = nginx(server).configure(**COMPRESSING)
    # Who a fix is for: names, the same in every language.
    typed = {admin.identity.name, "nginx", "Apache", "devtone"}

    def visit(page):
        sign_in(page, proxy.url, admin)
        page.goto(f"{proxy.url}/dashboard/doctor")
        page.click("#doctor-run")
        expect(page.locator("[data-check='stream_compressed']")).to_have_attribute(
            "data-status", "fail", timeout=30_000
        )

    english, portuguese = read_both(new_page, visit)
    assert untranslated(english, portuguese, typed) == set()


def test_a_text_written_straight_into_a_page_is_caught():
    english = {"Send", "Ada", "Dashboard"}
    portuguese = {"Enviar", "Ada", "Dashboard", "devtone"}
    assert untranslated(english, portuguese, typed={"Ada"}) == {"Dashboard"}


@ON_SQLITE  # words, the same on both stacks
def test_the_visitors_pages_have_no_english_left_in_portuguese(live_server, new_page):
    server = live_server()
    typed = {"Ana Souza", "AS", "Olá, meu pedido atrasou"}

    def visit_start(page):
        page.goto(f"{server.url}/chat")
        expect(page.locator("#start-form")).to_be_visible()

    def visit_conversation(page):
        start_chat(page, server.url, "Ana Souza", first="Olá, meu pedido atrasou")

    def visit_frame(page):
        page.goto(f"{server.url}/embed")
        expect(page.locator("#start-form")).to_be_visible()

    for visit in (visit_start, visit_conversation, visit_frame):
        english, portuguese = read_both(new_page, visit)
        assert untranslated(english, portuguese, typed) == set(), visit.__name__
