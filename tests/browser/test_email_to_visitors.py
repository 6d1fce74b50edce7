"""The answer reaches a visitor who left: agent replies they never saw arrive by e-mail
(a real SMTP server on a loopback port), and its link reopens the conversation, with its
history, in a browser that never had it."""

import re

import pytest
from playwright.sync_api import expect

from devtone.domain import conversations
from tests.browser.pages import shown, start_chat, type_message

pytestmark = pytest.mark.browser

SENDER = "Support <support@example.com>"


def test_unseen_replies_come_by_e_mail_and_its_link_reopens_the_conversation_elsewhere(
    app, live_server, new_page, make_agent, mail_server
):
    server = live_server(
        DEVTONE_SMTP_URL=mail_server.url,
        DEVTONE_MAIL_FROM=SENDER,
        DEVTONE_EMAIL_AFTER="1",
        DEVTONE_MAIL_CHECK_EVERY="0.2",
    )
    page = new_page()
    page.goto(f"{server.url}/chat")
    page.fill("#start-name", "Ada")
    page.fill("#start-email", "ada@example.com")
    page.click("#start-form button[type=submit]")
    type_message(page, "Where is my order?")
    expect(page.locator("#connection")).to_have_attribute("data-state", "live", timeout=15_000)
    visitor = page.evaluate("JSON.parse(localStorage.getItem('devtone.visitor'))")
    page.context.close()  # the visitor leaves

    maria = make_agent("Maria")
    with app.app_context():
        for body in ("Let me check.", "It ships <b>today</b> ✓"):
            conversations.post_message(visitor["conversationId"], maria.identity, body)

    [received] = mail_server.wait_for(1, timeout=30)
    body = received.get_content()
    assert received["To"] == "Ada <ada@example.com>"
    assert "Let me check." in body and "It ships <b>today</b> ✓" in body
    link = re.search(r"https?://\S+/chat(#reopen=\S+)", body)
    assert link, body

    # Another browser, another person's storage: the link alone opens it (the address is
    # DEVTONE_PUBLIC_URL's in production; here, the test server's).
    elsewhere = new_page()
    elsewhere.goto(f"{server.url}/chat{link[1]}")
    # Its history: the question, Maria joining, her two replies.
    expect(elsewhere.locator("#messages li.message")).to_have_count(4, timeout=15_000)
    bodies = [body for _, body in shown(elsewhere)]
    assert bodies[0] == "Where is my order?" and "Maria" in bodies[1]
    assert bodies[2:] == ["Let me check.", "It ships <b>today</b> ✓"]
    assert "#reopen" not in elsewhere.url  # the link left the address bar
    expect(elsewhere.locator("#connection")).to_have_attribute("data-state", "live")
    type_message(elsewhere, "Thanks!")
    expect(elsewhere.locator("#messages li.message[data-seq='5']")).to_contain_text("Thanks!")
    assert elsewhere.locator("#messages b").count() == 0 and elsewhere.errors == []
    assert len(mail_server.messages) == 1  # one e-mail for both replies


def test_a_wrong_link_opens_the_chat_as_it_would_be(live_server, new_page):
    server = live_server()
    page = new_page()
    page.goto(f"{server.url}/chat#reopen=not.a.link")
    expect(page.locator("#start-form")).to_be_visible()
    assert "#reopen" not in page.url and page.errors == []


def test_the_visitor_asks_for_the_transcript_from_the_chat(live_server, new_page, mail_server):
    server = live_server(
        DEVTONE_SMTP_URL=mail_server.url,
        DEVTONE_MAIL_FROM=SENDER,
        DEVTONE_MAIL_CHECK_EVERY="0.2",
    )
    page = new_page(locale="pt-BR")
    page.goto(f"{server.url}/chat")
    page.fill("#start-name", "João")
    page.fill("#start-email", "joao@example.com")
    page.click("#start-form button[type=submit]")
    type_message(page, "Olá, preciso de ajuda")
    expect(page.locator("#connection")).to_have_attribute("data-state", "live", timeout=15_000)
    page.click("#email-transcript")
    expect(page.locator("#transcript-notice")).to_contain_text("joao@example.com")
    [received] = mail_server.wait_for(1, timeout=30)
    assert received["Subject"] == "Sua conversa com Suporte"
    assert "Olá, preciso de ajuda" in received.get_content()


def test_a_reply_by_e_mail_reaches_the_dashboard_and_the_chat_as_the_visitors_message(
    app, live_server, new_page, agent
):
    import smtplib
    import socket
    from email.message import EmailMessage

    from devtone import mail_in
    from devtone.domain import conversation_links
    from tests.browser.dashboard_pages import list_item, sign_in

    server = live_server()
    customer = new_page()
    visitor = start_chat(customer, server.url, "Ada", first="My parcel is late")
    desk = new_page()
    sign_in(desk, server.url, agent)
    list_item(desk, visitor["conversationId"]).click()
    expect(desk.locator("#transcript-messages")).to_contain_text("My parcel is late")

    app.config["MAIL_REPLY_TO"] = "reply@support.example.com"  # where replies come to
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    receiver = mail_in.receiver(app, "127.0.0.1", listener.getsockname()[1], listener)
    receiver.start()
    try:
        with app.app_context():
            address = conversation_links.reply_address(
                visitor["conversationId"], mail_in.visitor_mail.reply_mailbox(app)
            )
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "ada@example.com", address, "Re"
        message.set_content(
            "It came today, thanks!\n\nOn Mon, Dec 7, 2026 at 10:00 AM Support wrote:\n"
            "> We are on it.\n"
        )
        with smtplib.SMTP("127.0.0.1", listener.getsockname()[1], timeout=5) as smtp:
            smtp.send_message(message)
    finally:
        receiver.stop()
        listener.close()

    arrived = customer.locator("#messages li.message[data-sender='visitor']").nth(1)
    expect(arrived).to_contain_text("It came today, thanks!", timeout=15_000)
    expect(desk.locator("#transcript-messages")).to_contain_text(
        "It came today, thanks!", timeout=15_000
    )
    for page in (customer, desk):
        assert "We are on it" not in page.content()
        assert "wrote:" not in page.content()
