"""Attachments in the browser: a visitor's image reaches the agent's dashboard as a
thumbnail, an agent's PDF reaches the widget as a named link with its size, a pasted
image is sent, and an interrupted upload shows "Not sent" with Retry."""

from __future__ import annotations

import io
import re

import pytest
import requests
from PIL import Image
from playwright.sync_api import expect

from devtone.domain import attachments
from devtone.file_store import files_of
from tests.browser.conftest import FAST_TIMINGS
from tests.browser.dashboard_pages import expect_dashboard_tier, force_tier, list_item, sign_in
from tests.browser.pages import FIRST, first_message, start_chat
from tests.browser.test_widget import _serve, _start_in_widget
from tests.conftest import ON_SQLITE

pytestmark = pytest.mark.browser

STATE = {"sse": "live", "longpoll": "polling", "poll": "polling"}
UPLOAD = re.compile(r"/api/conversations/\d+/attachments$")
PDF = (
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    + b"% padding to a readable size\n" * 50
    + b"trailer << /Root 1 0 R >>\n%%EOF\n"
)


def png(width=64, height=48, colour=(220, 40, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, format="PNG")
    return out.getvalue()


def expect_thumbnail(messages, name):
    """The image message named `name` is drawn: its <img> decoded, from a blob: URL."""
    image = messages.locator(f".attachment--image img[alt='{name}']")
    expect(image).to_be_visible(timeout=15_000)
    expect(image).to_have_attribute("src", re.compile(r"^blob:"), timeout=15_000)
    image.evaluate("img => img.decode()")
    assert image.evaluate("img => img.naturalWidth") > 0
    link = image.locator("xpath=..")
    expect(link).to_have_attribute("target", "_blank")
    return image


@pytest.mark.parametrize("tier", ["sse", "longpoll", "poll"])
def test_a_visitor_attaches_an_image_and_the_agent_sees_its_thumbnail_live(
    live_server, new_page, agent, tier
):
    server = live_server(**FAST_TIMINGS)
    chat = new_page()
    force_tier(chat, tier)
    visitor = start_chat(chat, server.url, "Ada", state=STATE[tier], tier=tier)
    desk = new_page()
    force_tier(desk, tier)
    sign_in(desk, server.url, agent)
    expect_dashboard_tier(desk, STATE[tier], tier)
    list_item(desk, visitor["conversationId"]).click()
    expect(desk.locator("#transcript-messages")).to_contain_text(FIRST)

    chat.set_input_files(
        "#attach-input", files=[{"name": "broken screen.png", "mimeType": "image/png",
                                 "buffer": png()}]
    )  # fmt: skip
    expect_thumbnail(chat.locator("#messages"), "broken screen.png")
    # It reaches the open transcript over the tier, as a message does.
    expect_thumbnail(desk.locator("#transcript-messages"), "broken screen.png")
    # Full size opens from the same blob, in a new tab, as an image.
    with desk.expect_popup() as popup:
        desk.locator("#transcript-messages .attachment--image").click()
    assert popup.value.evaluate("document.contentType") == "image/png"
    # And the agent's file reaches the visitor the same way.
    desk.set_input_files(
        "#reply-attach-input", files=[{"name": "steps.txt", "mimeType": "text/plain",
                                       "buffer": b"Restart it, please.\n"}]
    )  # fmt: skip
    link = chat.locator("#messages .attachment--file")
    expect(link.locator(".attachment__name")).to_have_text("steps.txt", timeout=15_000)
    expect(link.locator(".attachment__size")).to_have_text("20 bytes")
    assert chat.errors == [] and desk.errors == []


def test_an_agent_attaches_a_pdf_and_the_visitor_sees_a_named_link_with_its_size_in_the_widget(
    live_server, host_site, new_page, agent
):
    server = _serve(live_server, host_site)
    shop = new_page()
    shop.goto(host_site.page("shop.html", server.url))
    frame = _start_in_widget(shop)

    desk = new_page()
    sign_in(desk, server.url, agent)
    desk.locator("#conversation-list li[data-conversation-id]").first.click()
    desk.set_input_files(
        "#reply-attach-input",
        files=[{"name": "Fatura março.pdf", "mimeType": "application/pdf", "buffer": PDF}],
    )
    link = frame.locator("#messages .attachment--file")
    expect(link).to_be_visible(timeout=15_000)
    expect(link.locator(".attachment__name")).to_have_text("Fatura março.pdf")
    expect(link.locator(".attachment__size")).to_have_text("1.5 kB")
    expect(link).to_have_attribute("download", "Fatura março.pdf")
    with shop.expect_download() as download:
        link.click()
    saved = download.value.path()
    assert open(saved, "rb").read() == PDF


@ON_SQLITE
def test_the_size_is_written_in_the_pages_language(
    app, live_server, new_page, agent, start_visitor
):
    # The server reads the files this test's app writes.
    server = live_server(**FAST_TIMINGS, DEVTONE_UPLOAD_FOLDER=app.config["UPLOAD_FOLDER"])
    session = start_visitor("Ada")
    first_message(server.url, session, "Olá")
    with app.app_context():
        attachments.attach_file(
            session.id, agent.identity, PDF * 2, "relatório.pdf", None, files_of(app), 10**7
        )
    page = new_page(locale="pt-BR")
    page.goto(f"{server.url}/chat")
    page.evaluate(
        "([id, token]) => localStorage.setItem('devtone.visitor', JSON.stringify("
        "{name: 'Ada', conversationId: id, token}))",
        [session.id, session.token],
    )
    page.reload()
    # 3,080 bytes: "3,1 kB" in Portuguese (a decimal comma), "3.1 kB" in English.
    expect(page.locator(".attachment__size")).to_have_text("3,1 kB", timeout=15_000)


@ON_SQLITE
def test_a_pasted_image_is_sent_as_an_attachment(live_server, new_page):
    server = live_server(**FAST_TIMINGS)
    chat = new_page()
    start_chat(chat, server.url, "Ada")
    chat.evaluate(
        """async (bytes) => {
            const transfer = new DataTransfer();
            const file = new File([new Uint8Array(bytes)], "clipboard.png", {type: "image/png"});
            transfer.items.add(file);
            const paste = {clipboardData: transfer, bubbles: true, cancelable: true};
            const field = document.getElementById("message-body");
            field.dispatchEvent(new ClipboardEvent("paste", paste));
        }""",
        list(png()),
    )
    expect_thumbnail(chat.locator("#messages"), "clipboard.png")
    expect(chat.locator("#message-body")).to_have_value("")  # the picture, not its name


@ON_SQLITE
def test_files_dropped_on_the_dashboards_conversation_are_sent(live_server, new_page, agent):
    server = live_server(**FAST_TIMINGS)
    chat = new_page()
    start_chat(chat, server.url, "Ada")
    desk = new_page()
    sign_in(desk, server.url, agent)
    desk.locator("#conversation-list li[data-conversation-id]").first.click()
    desk.evaluate(
        """(bytes) => {
            const transfer = new DataTransfer();
            const file = new File([new Uint8Array(bytes)], "notes.txt", {type: "text/plain"});
            transfer.items.add(file);
            const zone = document.getElementById("transcript");
            for (const type of ["dragover", "drop"]) {
              zone.dispatchEvent(new DragEvent(type, {dataTransfer: transfer, bubbles: true,
                                                      cancelable: true}));
            }
        }""",
        list(b"Passos: 1) reinicie 2) tente de novo\n"),
    )
    expect(chat.locator("#messages .attachment--file .attachment__name")).to_have_text(
        "notes.txt", timeout=15_000
    )


@ON_SQLITE
def test_an_interrupted_upload_shows_not_sent_with_retry_and_is_stored_once_after_it(
    live_server, new_page
):
    server = live_server(**FAST_TIMINGS)
    chat = new_page()
    visitor = start_chat(chat, server.url, "Ada")
    chat.route(UPLOAD, lambda route: route.abort("connectionreset"))
    chat.set_input_files(
        "#attach-input", files=[{"name": "receipt.png", "mimeType": "image/png", "buffer": png()}]
    )
    failed = chat.locator("#messages li.message--failed")
    expect(failed).to_contain_text("receipt.png", timeout=60_000)  # after its 5 tries
    chat.unroute(UPLOAD)
    failed.get_by_role("button", name="Retry").click()
    expect_thumbnail(chat.locator("#messages"), "receipt.png")
    expect(chat.locator("#messages li.message--failed")).to_have_count(0)
    listed = requests.get(
        f"{server.url}/api/conversations/{visitor['conversationId']}/messages",
        headers={"Authorization": f"Bearer {visitor['token']}"},
        timeout=10,
    ).json()["messages"]
    assert [m["attachment"]["name"] for m in listed if "attachment" in m] == ["receipt.png"]


@ON_SQLITE
def test_a_file_of_a_refused_type_is_not_sent_and_says_why(live_server, new_page):
    server = live_server(**FAST_TIMINGS)
    chat = new_page()
    start_chat(chat, server.url, "Ada")
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    chat.set_input_files(
        "#attach-input", files=[{"name": "logo.svg", "mimeType": "image/svg+xml", "buffer": svg}]
    )
    expect(chat.locator("#messages li.message--failed")).to_contain_text("logo.svg")
    expect(chat.locator("#message-error")).to_contain_text("cannot be sent")
    chat.locator("#messages li.message--failed").get_by_role("button", name="Discard").click()
    expect(chat.locator("#messages li.message--failed")).to_have_count(0)


@ON_SQLITE
def test_a_large_file_goes_through_the_documented_nginx_location(live_server, nginx, new_page):
    from tests.browser.pages import documented_api_location

    server = live_server(**FAST_TIMINGS)
    proxy = nginx(server).configure(api_location=documented_api_location())
    chat = new_page()
    start_chat(chat, proxy.url, "Ada")
    log = ("2026-12-06 23:59:59 INFO request served\n" * 60_000).encode()  # 2.4 MB
    chat.set_input_files(
        "#attach-input", files=[{"name": "server.log", "mimeType": "text/plain", "buffer": log}]
    )
    link = chat.locator("#messages .attachment--file")
    expect(link.locator(".attachment__size")).to_have_text("2.4 MB", timeout=15_000)
    expect(chat.locator("#messages li.message--failed")).to_have_count(0)


@ON_SQLITE
def test_a_file_sent_first_starts_the_conversation_and_keeps_what_was_typed(live_server, new_page):
    server = live_server(**FAST_TIMINGS)
    chat = new_page()
    chat.goto(f"{server.url}/chat")
    chat.fill("#start-name", "Ada")
    chat.click("#start-form button[type=submit]")
    chat.fill("#message-body", "This is the error I get")
    chat.set_input_files(
        "#attach-input", files=[{"name": "error.png", "mimeType": "image/png", "buffer": png()}]
    )
    expect_thumbnail(chat.locator("#messages"), "error.png")
    expect(chat.locator("#connection")).to_have_attribute("data-state", "live", timeout=15_000)
    expect(chat.locator("#message-body")).to_have_value("This is the error I get")
