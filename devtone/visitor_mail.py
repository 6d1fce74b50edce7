"""E-mails to visitors, written from an outbox letter at the moment it is sent: in the
visitor's language, with a link that reopens the conversation, a link that stops the
e-mails (also as List-Unsubscribe, one click), and a Reply-To whose replies come back
into the conversation (mail_in.py)."""

from __future__ import annotations

from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import parseaddr
from urllib.parse import quote

from flask import Flask, render_template
from flask_babel import force_locale, gettext

from devtone import mail
from devtone.domain import conversation_links
from devtone.domain.outbox import Letter


def base_url(app: Flask) -> str:
    """Where visitors open devtone: DEVTONE_PUBLIC_URL, else the address it serves on."""
    return app.config["PUBLIC_URL"] or f"http://{app.config['HOST']}:{app.config['PORT']}"


def reply_mailbox(app: Flask) -> str | None:
    """The mailbox replies go to (DEVTONE_MAIL_REPLY_TO, else the sender's address); each
    conversation's reply address adds its tag to it. None when neither is set."""
    return app.config["MAIL_REPLY_TO"] or parseaddr(app.config["MAIL_FROM"] or "")[1] or None


def reopen_link(app: Flask, conversation_id: int) -> str:
    """The chat page with the conversation's reopen token after `#`: a browser never sends
    what follows `#`, so the token reaches no server's log."""
    return f"{base_url(app)}/chat#reopen={conversation_links.reopen_token(conversation_id)}"


def unsubscribe_link(app: Flask, conversation_id: int) -> str:
    """The page that stops the conversation's e-mails (`?token=`, which access logs
    redact)."""
    token = quote(conversation_links.unsubscribe_token(conversation_id))
    return f"{base_url(app)}/chat/unsubscribe?token={token}"


def compose(app: Flask, letter: Letter) -> EmailMessage:
    """The e-mail `letter` stands for (in an app context)."""
    locale = letter.language.replace("-", "_")
    unsubscribe = unsubscribe_link(app, letter.conversation_id)
    with force_locale(locale):
        team = app.config["TEAM_NAME"] or gettext("Support")
        values = {
            "letter": letter,
            "team": team,
            "reopen": reopen_link(app, letter.conversation_id),
            "unsubscribe": unsubscribe,
        }
        body = render_template(f"mail/{letter.kind}.txt", **values)
        subject = " ".join(render_template(f"mail/{letter.kind}_subject.txt", **values).split())
    to = Address(display_name=letter.visitor_name, addr_spec=letter.recipient)
    message = mail.compose(app.config["MAIL_FROM"], str(to), subject, body)
    # Sending needs DEVTONE_MAIL_FROM (config.load says so), so there is a mailbox.
    mailbox = reply_mailbox(app) or app.config["MAIL_FROM"]
    message["Reply-To"] = conversation_links.reply_address(letter.conversation_id, mailbox)
    # One id per outbox row: a retry after a success that was not recorded is the same
    # message to every server on the way.
    domain = mailbox.rpartition("@")[2]
    message["Message-ID"] = f"<devtone.mail{letter.id}.c{letter.conversation_id}@{domain}>"
    message["Content-Language"] = letter.language
    message["List-Unsubscribe"] = f"<{unsubscribe}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["Auto-Submitted"] = "auto-generated"
    return message
