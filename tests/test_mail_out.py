"""E-mail to visitors, against a real SMTP server on a loopback port: agent replies left
unseen for DEVTONE_EMAIL_AFTER go out in one e-mail (never one per reply, never one
twice), through an outbox that survives a mail server refusing for a while, sent by the
one process that holds the sender's lease."""

import re
import time

import pytest
from sqlalchemy import select, update

from devtone import mail
from devtone.domain import conversation_links, conversations, outbox, presence, reply_mail
from devtone.domain.models import OutgoingMail
from devtone.domain.visitors import Visitor
from devtone.extensions import db
from devtone.mail_out import MailSender
from tests.conftest import app_on

SENDER = "Support <support@example.com>"
AFTER = 0.3


@pytest.fixture
def app(database_url, redis_url, redis_channel, mail_server):
    """An app that e-mails through the test's SMTP server, after AFTER seconds unseen."""
    with app_on(
        database_url,
        redis_url,
        redis_channel,
        SMTP_URL=mail_server.url,
        MAIL_FROM=SENDER,
        SMTP_TIMEOUT=5,
        EMAIL_AFTER=AFTER,
        MAIL_RETRY_AFTER=0.2,
        PUBLIC_URL="https://support.example.com",
        TEAM_NAME="Acme",
    ) as app:
        yield app


@pytest.fixture
def sender(app):
    return MailSender(app, mail.mailer_of(app))


def start(app, name="Ada", email="ada@example.com", language=None):
    with app.app_context():
        conversation, token = conversations.start_conversation(name, email, language)
    return conversation["id"], Visitor(token)


def reply(app, conversation_id, agent, body):
    with app.app_context():
        message, _ = conversations.post_message(conversation_id, agent.identity, body)
    return message


def after_the_wait():
    time.sleep(AFTER + 0.1)  # the replies become "unseen for EMAIL_AFTER"


def outbox_rows(app):
    with app.app_context():
        rows = db.session.scalars(select(OutgoingMail).order_by(OutgoingMail.id)).all()
        db.session.expunge_all()
        db.session.remove()
    return rows


def test_two_unseen_replies_make_exactly_one_e_mail_after_the_wait(app, agent, sender, mail_server):
    conversation_id, _ = start(app)
    reply(app, conversation_id, agent, "Hello Ada!")
    reply(app, conversation_id, agent, "Your order ships <b>today</b> ✓")
    assert sender.round() == 0  # not yet unseen long enough
    after_the_wait()
    assert sender.round() == 1
    assert sender.round() == 0
    [received] = mail_server.wait_for(1)
    assert received["To"] == "Ada <ada@example.com>"
    assert received["Subject"] == "New reply from Acme"
    body = received.get_content()
    assert "Hello Ada!" in body and "Your order ships <b>today</b> ✓" in body
    assert body.index("Hello Ada!") < body.index("Your order ships")
    assert re.search(r"https://support\.example\.com/chat#reopen=\S+", body)
    assert "https://support.example.com/chat/unsubscribe?token=" in received["List-Unsubscribe"]
    assert received["Reply-To"] == conversation_links_reply(app, conversation_id)
    time.sleep(AFTER)
    sender.round()
    assert len(mail_server.messages) == 1


def conversation_links_reply(app, conversation_id):
    with app.app_context():
        return conversation_links.reply_address(conversation_id, "support@example.com")


def test_a_reply_seen_in_time_is_never_e_mailed(app, agent, sender, mail_server):
    conversation_id, visitor = start(app)
    message = reply(app, conversation_id, agent, "Seen at once")
    with app.app_context():
        presence.mark_read(conversation_id, visitor, message["seq"])
    after_the_wait()
    assert sender.round() == 0
    assert mail_server.messages == [] and outbox_rows(app) == []


def test_a_later_reply_gets_an_e_mail_of_its_own_without_the_earlier_ones(
    app, agent, sender, mail_server
):
    conversation_id, _ = start(app)
    reply(app, conversation_id, agent, "First answer")
    after_the_wait()
    sender.round()
    reply(app, conversation_id, agent, "Second answer")
    after_the_wait()
    assert sender.round() == 1
    first, second = mail_server.wait_for(2)
    assert "First answer" in first.get_content()
    assert "Second answer" in second.get_content()
    assert "First answer" not in second.get_content()


@pytest.mark.parametrize("email", [None, ""])
def test_a_visitor_without_an_address_gets_no_e_mail(app, agent, sender, mail_server, email):
    conversation_id, _ = start(app, email=email)
    reply(app, conversation_id, agent, "Hello?")
    after_the_wait()
    assert sender.round() == 0
    assert mail_server.messages == []


def test_a_refusing_mail_server_delays_the_e_mail_and_it_goes_once_when_it_is_back(
    app, agent, sender, mail_server
):
    conversation_id, _ = start(app)
    reply(app, conversation_id, agent, "Are you still there?")
    reply(app, conversation_id, agent, "We found it.")
    mail_server.refusing = True
    after_the_wait()
    assert sender.round() == 0
    [row] = outbox_rows(app)
    assert (row.attempts, row.sent_at) == (1, None) and "451" in row.last_error
    assert sender.round() == 0  # its next try is not due yet
    assert mail_server.refused == 1
    mail_server.refusing = False
    time.sleep(0.3)
    assert sender.round() == 1
    assert sender.round() == 0
    [received] = mail_server.wait_for(1)
    assert "Are you still there?" in received.get_content()
    assert "We found it." in received.get_content()
    [row] = outbox_rows(app)
    assert row.sent_at is not None and row.last_error is None


def test_one_process_at_a_time_holds_the_sender(app, agent, mail_server):
    first, second = (MailSender(app, mail.mailer_of(app)) for _ in range(2))
    conversation_id, _ = start(app)
    reply(app, conversation_id, agent, "Only once")
    after_the_wait()
    assert (second.round(), first.round()) == (1, 0)
    assert len(mail_server.wait_for(1)) == 1


def test_the_e_mail_is_in_the_visitors_language(app, agent, sender, mail_server):
    conversation_id, _ = start(app, name="João", email="joao@example.com", language="pt-BR")
    reply(app, conversation_id, agent, "Olá João")
    after_the_wait()
    sender.round()
    [received] = mail_server.wait_for(1)
    assert received["Subject"] == "Nova resposta de Acme"
    assert received["Content-Language"] == "pt-BR"
    assert "Olá João" in received.get_content()


def test_an_unsubscribed_visitor_gets_no_more_e_mail(app, agent, sender, mail_server):
    conversation_id, _ = start(app)
    with app.app_context():
        conversation_links.stop_emails(conversation_links.unsubscribe_token(conversation_id))
    reply(app, conversation_id, agent, "Anyone?")
    after_the_wait()
    assert sender.round() == 0
    assert mail_server.messages == []


def test_a_transcript_asked_for_holds_both_sides(app, agent, sender, mail_server):
    conversation_id, visitor = start(app)
    with app.app_context():
        conversations.post_message(conversation_id, visitor, "My parcel is late")
    reply(app, conversation_id, agent, "Let me look")
    with app.app_context():
        reply_mail.queue_transcript(conversation_id, visitor)
    assert sender.round() == 1
    [received] = mail_server.wait_for(1)
    assert received["Subject"] == "Your conversation with Acme"
    body = received.get_content()
    assert body.index("My parcel is late") < body.index("Let me look")


def test_an_address_the_server_says_does_not_exist_is_given_up(app, agent, sender, mail_server):
    mail_server.refused_recipients["ada@example.com"] = "550 5.1.1 No such user"
    conversation_id, _ = start(app)
    reply(app, conversation_id, agent, "Hello?")
    after_the_wait()
    assert sender.round() == 0
    [row] = outbox_rows(app)
    assert row.given_up_at is not None and row.attempts == 1
    mail_server.refused_recipients.clear()
    time.sleep(0.3)
    assert sender.round() == 0 and mail_server.messages == []


def test_an_address_refused_for_now_is_tried_again(app, agent, sender, mail_server):
    mail_server.refused_recipients["ada@example.com"] = "450 4.2.0 Greylisted, try later"
    conversation_id, _ = start(app)
    reply(app, conversation_id, agent, "Hello again")
    after_the_wait()
    assert sender.round() == 0
    [row] = outbox_rows(app)
    assert row.given_up_at is None and row.attempts == 1
    mail_server.refused_recipients.clear()
    time.sleep(0.3)
    assert sender.round() == 1
    assert "Hello again" in mail_server.wait_for(1)[0].get_content()


def test_an_e_mail_that_cannot_be_written_is_given_up_and_the_next_one_still_goes(
    app, agent, sender, mail_server, monkeypatch
):
    from devtone import visitor_mail

    first, _ = start(app, name="Ada", email="ada@example.com")
    second, _ = start(app, name="Bia", email="bia@example.com")
    reply(app, first, agent, "Hello Ada!")
    reply(app, second, agent, "Hello Bia!")
    after_the_wait()
    compose = visitor_mail.compose

    def compose_but_not_adas(app, letter):
        if letter.conversation_id == first:
            raise ValueError("Header values may not contain linefeed or carriage return")
        return compose(app, letter)

    monkeypatch.setattr(visitor_mail, "compose", compose_but_not_adas)
    assert sender.round() == 1
    [received] = mail_server.wait_for(1)
    assert received["To"] == "Bia <bia@example.com>"
    given_up = [row for row in outbox_rows(app) if row.conversation_id == first]
    assert [row.given_up_at is not None for row in given_up] == [True]
    assert sender.round() == 0  # never tried again


def note(app, conversation_id, agent, body):
    with app.app_context():
        message, _ = conversations.post_message(conversation_id, agent.identity, body, None, "note")
    return message


def test_the_e_mailed_replies_hold_no_note(app, agent, sender, mail_server):
    conversation_id, _ = start(app)
    reply(app, conversation_id, agent, "Hello Ada!")
    note(app, conversation_id, agent, "Internal: she asked twice already")
    reply(app, conversation_id, agent, "Your order ships today")
    after_the_wait()
    assert sender.round() == 1
    [received] = mail_server.wait_for(1)
    body = received.get_content()
    assert "Hello Ada!" in body and "Your order ships today" in body
    assert "Internal" not in body and "asked twice" not in body


def test_a_note_alone_is_never_e_mailed(app, agent, sender, mail_server):
    conversation_id, _ = start(app)
    note(app, conversation_id, agent, "Call her back tomorrow")
    after_the_wait()
    assert sender.round() == 0
    assert mail_server.messages == [] and outbox_rows(app) == []


def test_the_e_mailed_transcript_holds_no_note(app, agent, sender, mail_server):
    conversation_id, visitor = start(app)
    with app.app_context():
        conversations.post_message(conversation_id, visitor, "My parcel is late")
    note(app, conversation_id, agent, "Carrier lost it, do not say so")
    reply(app, conversation_id, agent, "Let me look")
    with app.app_context():
        reply_mail.queue_transcript(conversation_id, visitor)
    assert sender.round() == 1
    [received] = mail_server.wait_for(1)
    body = received.get_content()
    assert "My parcel is late" in body and "Let me look" in body
    assert "Carrier" not in body


def test_a_transcript_of_a_closed_unrated_conversation_asks_for_a_rating(
    app, agent, sender, mail_server
):
    from devtone.domain import ratings

    conversation_id, visitor = start(app)
    with app.app_context():
        conversations.post_message(conversation_id, visitor, "Thanks, that was all")
        conversations.close_conversation(conversation_id, agent.identity)
        reply_mail.queue_transcript(conversation_id, visitor)
    assert sender.round() == 1
    [received] = mail_server.wait_for(1)
    body = received.get_content()
    assert "Rate it from 1 to 5 at the same link." in body
    assert "https://support.example.com/chat#reopen=" in body
    # Rated: the next e-mail no longer asks.
    with app.app_context():
        ratings.rate_conversation(conversation_id, visitor, 5)
        reply_mail.queue_transcript(conversation_id, visitor)
    assert sender.round() == 1
    assert "Rate it" not in mail_server.wait_for(2)[1].get_content()


def test_a_transcript_of_an_open_conversation_asks_for_no_rating(app, sender, mail_server):
    conversation_id, visitor = start(app)
    with app.app_context():
        conversations.post_message(conversation_id, visitor, "Still waiting")
        reply_mail.queue_transcript(conversation_id, visitor)
    assert sender.round() == 1
    assert "Rate it" not in mail_server.wait_for(1)[0].get_content()


def test_a_pt_br_visitor_is_asked_for_a_rating_in_portuguese(app, agent, sender, mail_server):
    conversation_id, visitor = start(app, language="pt-BR")
    with app.app_context():
        conversations.post_message(conversation_id, visitor, "Obrigada!")
        conversations.close_conversation(conversation_id, agent.identity)
        reply_mail.queue_transcript(conversation_id, visitor)
    assert sender.round() == 1
    body = mail_server.wait_for(1)[0].get_content()
    assert "Como foi este atendimento? Dê uma nota de 1 a 5 no mesmo link." in body


def test_an_e_mail_the_server_rejects_for_good_is_given_up(app, agent, sender, mail_server):
    # A 5xx after DATA (a content or spam policy) is permanent: the same e-mail sent again
    # every hour would be rejected every hour.
    mail_server.rejecting = "554 5.7.1 Message rejected by policy"
    conversation_id, _ = start(app)
    reply(app, conversation_id, agent, "Your refund is on its way")
    after_the_wait()
    assert sender.round() == 0
    [row] = outbox_rows(app)
    assert row.given_up_at is not None and row.attempts == 1 and "554" in row.last_error
    mail_server.rejecting = None
    time.sleep(0.3)
    assert sender.round() == 0 and mail_server.messages == []


def test_an_e_mail_still_refused_five_days_after_it_was_queued_is_given_up(
    app, agent, sender, mail_server
):
    mail_server.refusing = True
    conversation_id, _ = start(app)
    reply(app, conversation_id, agent, "Olá, Ada!")
    after_the_wait()
    assert sender.round() == 0
    [row] = outbox_rows(app)
    assert row.given_up_at is None, "a 451 is tried again"
    with app.app_context():
        db.session.execute(
            update(OutgoingMail)
            .where(OutgoingMail.id == row.id)
            .values(created_at=row.created_at - outbox.GIVE_UP_AFTER)
        )
        db.session.commit()
        db.session.remove()
    mail_server.refusing = False
    time.sleep(0.3)
    assert sender.round() == 0 and mail_server.messages == []
    [row] = outbox_rows(app)
    assert row.given_up_at is not None
    assert row.last_error.startswith("not sent in 5 days: ") and "451" in row.last_error
