"""Signed visitor identity in the browser: the widget's identify() with a valid hash on two
browsers (two contexts: two people's worth of storage) shows one conversation; a wrong
hash does not link, and the server logs the refusal."""

import json
import time
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from devtone.domain import conversations, identities
from tests.browser.conftest import FAST_TIMINGS

pytestmark = pytest.mark.browser

SECRET = "browser-test-identity-secret"
LAUNCHER = "devtone-widget >> #launcher"


def _serve(live_server, host_site):
    return live_server(
        **FAST_TIMINGS, DEVTONE_EMBED_ORIGINS=host_site.origin, DEVTONE_IDENTITY_SECRET=SECRET
    )


def _identified_page(new_page, host_site, server, identity):
    """A shop page whose server signed its visitor in: identify() queued before the loader."""
    queued = (
        "window.devtone = window.devtone || [];"
        f" devtone.push(['identify', {json.dumps(identity)}]);"
    )
    page = new_page()
    page.goto(host_site.page("shop.html", server.url, before_loader=queued))
    page.click(LAUNCHER)
    return page, page.frame_locator("devtone-widget >> #frame")


def _send(frame, body):
    frame.locator("#message-body").fill(body)
    frame.locator("#message-body").press("Enter")


def _signed(visitor_id, secret=SECRET):
    return {"id": visitor_id, "hash": identities.sign(secret, visitor_id)}


def test_a_signed_visitor_sees_one_history_on_two_browsers(live_server, host_site, new_page):
    server = _serve(live_server, host_site)
    ada = {"name": "Ada", "email": "ada@example.com", **_signed("customer-42")}

    laptop_page, laptop = _identified_page(new_page, host_site, server, ada)
    expect(laptop.locator("#message-form")).to_be_visible(timeout=15_000)
    _send(laptop, "Started on my laptop")
    expect(laptop.locator("#connection")).to_have_attribute("data-state", "live", timeout=15_000)

    # Another browser (its own storage): the history shows without writing anything.
    phone_page, phone = _identified_page(new_page, host_site, server, ada)
    expect(phone.locator("#messages")).to_contain_text("Started on my laptop", timeout=15_000)
    expect(phone.locator("#connection")).to_have_attribute("data-state", "live", timeout=15_000)

    def stored(page):
        key = f"devtone.visitor:{server.url}"
        return json.loads(page.evaluate(f"localStorage.getItem('{key}')"))

    # One conversation, a token of each browser's own.
    assert stored(phone_page)["identity"]["id"] == "customer-42"
    assert stored(phone_page)["conversationId"] == stored(laptop_page)["conversationId"]
    assert stored(phone_page)["token"] != stored(laptop_page)["token"]

    # The phone's reply reaches the laptop live, and the laptop's the phone.
    _send(phone, "Now on my phone")
    expect(laptop.locator("#messages")).to_contain_text("Now on my phone", timeout=15_000)
    _send(laptop, "Back on the laptop")
    expect(phone.locator("#messages")).to_contain_text("Back on the laptop", timeout=15_000)
    assert phone_page.errors == []


def test_a_wrong_hash_does_not_link_and_the_server_logs_the_refusal(
    live_server, host_site, new_page
):
    server = _serve(live_server, host_site)
    _, laptop = _identified_page(new_page, host_site, server, {"name": "Ada", **_signed("c-7")})
    _send(laptop, "Private order details")
    expect(laptop.locator("#connection")).to_have_attribute("data-state", "live", timeout=15_000)

    # Mallory claims the id with a hash made for her own id (a replay): no history.
    forged = {"name": "Mallory", "id": "c-7", "hash": identities.sign(SECRET, "mallory")}
    intruder_page, intruder = _identified_page(new_page, host_site, server, forged)
    expect(intruder.locator("#message-form")).to_be_visible(timeout=15_000)
    _send(intruder, "Show me the orders")
    expect(intruder.locator("#connection")).to_have_attribute("data-state", "live", timeout=15_000)
    expect(intruder.locator("#messages")).to_contain_text("Show me the orders")
    expect(intruder.locator("#messages")).not_to_contain_text("Private order details")
    expect(laptop.locator("#messages")).not_to_contain_text("Show me the orders")
    assert any("hash refused" in line for line in intruder_page.console)

    deadline = time.monotonic() + 10
    log = ""
    while "Visitor identity refused" not in log and time.monotonic() < deadline:
        time.sleep(0.2)
        log = server.log.read_text(errors="replace")
    assert "Visitor identity refused" in log and "'c-7'" in log
    assert forged["hash"] not in log and SECRET not in log


def test_reset_on_sign_out_forgets_the_signed_visitor_on_this_browser(
    live_server, host_site, new_page
):
    server = _serve(live_server, host_site)
    page, frame = _identified_page(new_page, host_site, server, {"name": "Ada", **_signed("c-9")})
    _send(frame, "Before signing out")
    expect(frame.locator("#connection")).to_have_attribute("data-state", "live", timeout=15_000)

    page.evaluate("devtone.reset()")
    expect(frame.locator("#start-form")).to_be_visible(timeout=15_000)
    assert page.evaluate(f"localStorage.getItem('devtone.visitor:{server.url}')") is None
    expect(frame.locator("#messages")).not_to_contain_text("Before signing out")
    # The next person on this browser starts clean, and is not handed Ada's conversation.
    frame.locator("#start-name").fill("Grace")
    frame.locator("#start-form button[type=submit]").click()
    _send(frame, "A new visitor")
    expect(frame.locator("#messages")).to_contain_text("A new visitor", timeout=15_000)
    expect(frame.locator("#messages")).not_to_contain_text("Before signing out")


def test_a_signed_visitor_reloading_the_shop_stays_live_in_their_conversation(
    live_server, host_site, new_page
):
    # A signed-in site calls identify() on every page: a reload must not leave the
    # conversation it reopens without its live feed.
    server = _serve(live_server, host_site)
    ada = {"name": "Ada", **_signed("customer-77")}
    page, frame = _identified_page(new_page, host_site, server, ada)
    _send(frame, "Before the reload")
    expect(frame.locator("#connection")).to_have_attribute("data-state", "live", timeout=15_000)

    page.reload()
    page.click(LAUNCHER)
    frame = page.frame_locator("devtone-widget >> #frame")
    expect(frame.locator("#messages")).to_contain_text("Before the reload", timeout=15_000)
    expect(frame.locator("#connection")).to_have_attribute("data-state", "live", timeout=15_000)
    _send(frame, "After the reload")
    expect(frame.locator("#messages")).to_contain_text("After the reload", timeout=15_000)
    assert page.errors == []


def test_a_conversation_closed_on_the_laptop_is_among_the_phones_earlier_ones(
    app, live_server, host_site, new_page, agent
):
    server = _serve(live_server, host_site)
    ada = {"name": "Ada", **_signed("customer-88")}
    laptop_page, laptop = _identified_page(new_page, host_site, server, ada)
    _send(laptop, "Where is my parcel?")
    expect(laptop.locator("#connection")).to_have_attribute("data-state", "live", timeout=15_000)
    stored = laptop_page.evaluate(f"localStorage.getItem('devtone.visitor:{server.url}')")
    with app.app_context():
        conversations.close_conversation(json.loads(stored)["conversationId"], agent.identity)

    # The phone has nothing open to resume: the closed conversation waits among the
    # earlier ones, and opens there with its history.
    _, phone = _identified_page(new_page, host_site, server, ada)
    expect(phone.locator("#earlier")).to_be_visible(timeout=15_000)
    phone.locator("#earlier summary").click()
    phone.locator("#earlier-list button").first.click()
    expect(phone.locator("#messages")).to_contain_text("Where is my parcel?", timeout=15_000)
    expect(phone.locator("#connection")).to_have_attribute("data-state", "live", timeout=15_000)


def test_a_link_carrying_someone_elses_identity_signs_no_one_in(live_server, host_site, new_page):
    # Mallory is signed in to the shop, so its page holds her id and hash; she sends Ada a
    # /chat link carrying them. Were it taken, Ada's next conversation would be filed under
    # Mallory's id for Mallory to read: a link names no one (the widget's identify() does).
    server = _serve(live_server, host_site)
    mallory = {"name": "Mallory", **_signed("mallory-1")}
    _, mallorys = _identified_page(new_page, host_site, server, mallory)
    _send(mallorys, "Mallory's open conversation")
    expect(mallorys.locator("#connection")).to_have_attribute("data-state", "live", timeout=15_000)

    ada = new_page(locale="pt-BR", color_scheme="dark")
    query = "&".join(f"{key}={quote(value)}" for key, value in mallory.items())
    ada.goto(f"{server.url}/chat#identify?{query}")
    expect(ada.locator("#start-form")).to_be_visible(timeout=15_000)  # not signed in as anyone
    assert "#identify" not in ada.url  # and the planted pair is out of the address bar
    ada.locator("#start-name").fill("Ada")
    ada.locator("#start-form button[type=submit]").click()
    ada.locator("#message-body").fill("Meu cartão termina em 4242")
    ada.locator("#message-body").press("Enter")
    expect(ada.locator("#connection")).to_have_attribute("data-state", "live", timeout=15_000)
    expect(ada.locator("#messages")).not_to_contain_text("Mallory's open conversation")
    stored = json.loads(ada.evaluate("localStorage.getItem('devtone.visitor')"))
    assert "identity" not in stored

    # Mallory's other browser finds nothing of Ada's among her conversations.
    _, phone = _identified_page(new_page, host_site, server, mallory)
    expect(phone.locator("#messages")).to_contain_text(
        "Mallory's open conversation", timeout=15_000
    )
    expect(phone.locator("#messages")).not_to_contain_text("4242")
    assert ada.errors == []
