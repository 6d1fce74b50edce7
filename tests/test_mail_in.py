"""`flask mail-in`'s SMTP receiver on a loopback port: a visitor's reply to devtone's
e-mail comes back into their conversation as their message, once, without the quoted
history; an unknown or forged reply address is refused before the message is sent."""

import smtplib
import socket
from email.message import EmailMessage

import pytest
from sqlalchemy import select

from devtone import mail_in
from devtone.domain import conversation_links, conversations
from devtone.domain.models import Message
from devtone.domain.visitors import Visitor
from devtone.extensions import db
from tests.conftest import app_on

MAILBOX = "reply@support.example.com"


@pytest.fixture
def app(database_url, redis_url, redis_channel):
    with app_on(
        database_url, redis_url, redis_channel, MAIL_FROM="Support <s@example.com>",
        MAIL_REPLY_TO=MAILBOX,
    ) as app:  # fmt: skip
        yield app


@pytest.fixture
def receiver(app):
    """The receiver on a loopback port of its own; its address as (host, port)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    controller = mail_in.receiver(app, "127.0.0.1", port, listener)
    controller.start()
    yield ("127.0.0.1", port)
    controller.stop()
    listener.close()


def address_of(app, conversation_id):
    with app.app_context():
        return conversation_links.reply_address(conversation_id, MAILBOX)


def reply(to, body, message_id="<r1@mail.example.com>", subtype="plain"):
    message = EmailMessage()
    message["From"] = "Ada <ada@example.com>"
    message["To"] = to
    message["Subject"] = "Re: New reply from Acme"
    message["Message-ID"] = message_id
    message.set_content(body, subtype=subtype)
    return message


def send(receiver, message):
    with smtplib.SMTP(*receiver, timeout=5) as smtp:
        smtp.send_message(message)


def entries(app, conversation_id):
    with app.app_context():
        rows = db.session.execute(
            select(Message.sender, Message.author_name, Message.body)
            .where(Message.conversation_id == conversation_id, Message.kind == "text")
            .order_by(Message.seq)
        ).all()
        db.session.remove()
    return [tuple(row) for row in rows]


QUOTED = """Thanks, it arrived! 😀
<b>really</b>

On Mon, Dec 7, 2026 at 10:00 AM Support <reply@support.example.com> wrote:
> Your order ships today
"""


def test_a_reply_by_e_mail_is_the_visitors_message_without_the_quoted_history(
    app, receiver, start_visitor
):
    visitor = start_visitor("Ada", "ada@example.com")
    send(receiver, reply(address_of(app, visitor.id), QUOTED))
    assert entries(app, visitor.id) == [("visitor", "Ada", "Thanks, it arrived! 😀\n<b>really</b>")]


def test_the_same_e_mail_delivered_twice_is_posted_once(app, receiver, start_visitor):
    visitor = start_visitor("Ada", "ada@example.com")
    for _ in range(2):
        send(receiver, reply(address_of(app, visitor.id), "Only once"))
    assert entries(app, visitor.id) == [("visitor", "Ada", "Only once")]


def test_a_reply_reopens_a_closed_conversation(app, receiver, start_visitor, agent):
    visitor = start_visitor("Ada", "ada@example.com")
    with app.app_context():
        conversations.post_message(visitor.id, Visitor(visitor.token), "Hello")
        conversations.close_conversation(visitor.id, agent.identity)
    send(receiver, reply(address_of(app, visitor.id), "One more thing"))
    with app.app_context():
        assert conversations.get_conversation(visitor.id, agent.identity)["status"] == "waiting"


@pytest.mark.parametrize(
    "forge",
    [
        lambda good: "reply@support.example.com",  # no tag
        lambda good: "someone@support.example.com",
        lambda good: good.replace("@support.example.com", "@elsewhere.example.com"),
        lambda good: good[: good.index(".") + 1] + "0" * 20 + good[good.index("@") :],
        lambda good: good.replace("+c", "+c9"),  # another conversation, same signature
    ],
)
def test_an_unknown_or_forged_reply_address_is_refused(app, receiver, start_visitor, forge):
    visitor = start_visitor("Ada", "ada@example.com")
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(receiver, reply(forge(address_of(app, visitor.id)), "Let me in"))
    [(code, _)] = refused.value.recipients.values()
    assert code == 550
    assert entries(app, visitor.id) == []


def test_a_reply_with_nothing_of_its_own_is_refused(app, receiver, start_visitor):
    visitor = start_visitor("Ada", "ada@example.com")
    with pytest.raises(smtplib.SMTPDataError) as refused:
        send(receiver, reply(address_of(app, visitor.id), "> all quoted\n"))
    assert refused.value.smtp_code == 550
    assert entries(app, visitor.id) == []


def test_an_html_reply_loses_its_markup_and_quote(app, receiver, start_visitor):
    visitor = start_visitor("Ada", "ada@example.com")
    html = (
        "<div>Obrigado &amp; até logo</div><div class='gmail_quote'>"
        "<div>Em seg., 7 de dez. de 2026, Suporte escreveu:</div>"
        "<blockquote>Olá</blockquote></div>"
    )
    send(receiver, reply(address_of(app, visitor.id), html, subtype="html"))
    assert entries(app, visitor.id) == [("visitor", "Ada", "Obrigado & até logo")]


def test_the_receiver_needs_an_address_for_replies(database_url, redis_url, redis_channel):
    with app_on(database_url, redis_url, redis_channel) as bare:
        with pytest.raises(ValueError, match="DEVTONE_MAIL_REPLY_TO"):
            mail_in.receiver(bare, "127.0.0.1", 0)


@pytest.mark.parametrize(
    "header, value",
    [
        ("Auto-Submitted", "auto-replied"),
        ("Auto-Submitted", "auto-generated; owner-email=ada@example.com"),
        ("X-Autoreply", "yes"),
        ("X-Autorespond", "Ausente"),
        ("Precedence", "auto_reply"),
        ("Precedence", "bulk"),
    ],
)
def test_an_out_of_office_reply_is_taken_and_not_posted(
    app, receiver, start_visitor, header, value
):
    # Posted, "I am away until Monday" would read as the visitor's words, and the agent's
    # next reply would e-mail the responder again.
    visitor = start_visitor("Ada", "ada@example.com")
    away = reply(address_of(app, visitor.id), "Estou fora do escritório até segunda.")
    away[header] = value
    send(receiver, away)  # 250: no server bounces it back
    assert entries(app, visitor.id) == []


def test_a_bounce_from_the_null_sender_is_not_posted_but_a_reply_saying_no_is(
    app, receiver, start_visitor
):
    visitor = start_visitor("Ada", "ada@example.com")
    with smtplib.SMTP(*receiver, timeout=5) as smtp:
        smtp.send_message(
            reply(address_of(app, visitor.id), "Delivery failed", "<b1@mx.example.com>"),
            from_addr="",
        )
    written = reply(address_of(app, visitor.id), "Typed by me", "<r2@mail.example.com>")
    written["Auto-Submitted"] = "no"
    send(receiver, written)
    assert entries(app, visitor.id) == [("visitor", "Ada", "Typed by me")]
