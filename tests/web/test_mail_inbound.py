"""POST /api/mail/inbound: a visitor's reply as Postmark, Mailgun and SendGrid post it
comes into the conversation as their message, without the quoted history; the hook is off
without its token and refuses a wrong one, and an unknown or forged address."""

import base64

import pytest
from sqlalchemy import select

from devtone.domain import conversation_links
from devtone.domain.models import Message
from devtone.extensions import db
from tests.conftest import app_on

MAILBOX = "reply@support.example.com"
TOKEN = "inbound-secret-123"
QUOTED = "Sounds good.\n\nOn Mon, Dec 7, 2026 at 10:00 AM Support wrote:\n> Shall we?\n"


@pytest.fixture
def app(database_url, redis_url, redis_channel):
    with app_on(
        database_url, redis_url, redis_channel, MAIL_REPLY_TO=MAILBOX, MAIL_INBOUND_TOKEN=TOKEN
    ) as app:
        yield app


@pytest.fixture
def ada(start_visitor):
    return start_visitor("Ada", "ada@example.com")


def address_of(app, conversation_id):
    with app.app_context():
        return conversation_links.reply_address(conversation_id, MAILBOX)


def bodies(app, conversation_id):
    with app.app_context():
        rows = db.session.execute(
            select(Message.sender, Message.body).where(Message.conversation_id == conversation_id)
        ).all()
        db.session.remove()
    return [tuple(row) for row in rows]


def test_a_postmark_reply(client, app, ada):
    answer = client.post(
        f"/api/mail/inbound?token={TOKEN}",
        json={
            "OriginalRecipient": address_of(app, ada.id),
            "To": f"Support <{address_of(app, ada.id)}>",
            "TextBody": QUOTED,
            "HtmlBody": "<p>ignored when there is text</p>",
            "MessageID": "73e6d360-66eb-11e1-8e72-a8904824019b",
            "Headers": [{"Name": "X-Spam-Status", "Value": "No"}],
        },
    )
    assert answer.status_code == 201, answer.json
    assert answer.json["message"]["sender"] == "visitor"
    assert bodies(app, ada.id) == [("visitor", "Sounds good.")]


def test_a_mailgun_reply_delivered_twice_is_posted_once(client, app, ada):
    form = {
        "recipient": address_of(app, ada.id),
        "sender": "ada@example.com",
        "body-plain": QUOTED,
        "Message-Id": "<abc@mail.example.com>",
    }
    statuses = [
        client.post(f"/api/mail/inbound?token={TOKEN}", data=form).status_code for _ in "12"
    ]
    assert statuses == [201, 200]
    assert bodies(app, ada.id) == [("visitor", "Sounds good.")]


def test_a_sendgrid_reply_in_html_with_basic_auth(client, app, ada):
    credentials = base64.b64encode(f"sendgrid:{TOKEN}".encode()).decode()
    answer = client.post(
        "/api/mail/inbound",
        headers={"Authorization": f"Basic {credentials}"},
        data={
            "to": f"Support <{address_of(app, ada.id)}>",
            "envelope": f'{{"to": ["{address_of(app, ada.id)}"], "from": "ada@example.com"}}',
            "html": "<div>Até já &lt;3</div><blockquote>On Mon Support wrote: hi</blockquote>",
            "headers": "Message-ID: <sg1@mail.example.com>\nSubject: Re\n",
        },
    )
    assert answer.status_code == 201, answer.json
    assert bodies(app, ada.id) == [("visitor", "Até já <3")]


def test_a_reply_larger_than_an_api_request_still_comes(client, app, ada):
    answer = client.post(
        f"/api/mail/inbound?token={TOKEN}",
        data={"recipient": address_of(app, ada.id), "body-plain": "Here.\n\n" + "> x\n" * 20000},
    )
    assert answer.status_code == 201
    assert bodies(app, ada.id) == [("visitor", "Here.")]


@pytest.mark.parametrize("query", ["", "?token=wrong", "?token="])
def test_a_wrong_token_posts_nothing(client, app, ada, query):
    answer = client.post(
        f"/api/mail/inbound{query}", data={"recipient": address_of(app, ada.id), "text": "hi"}
    )
    assert answer.status_code == 401
    assert bodies(app, ada.id) == []


def test_the_hook_is_off_without_its_token(database_url, redis_url, redis_channel):
    with app_on(database_url, redis_url, redis_channel) as app:
        answer = app.test_client().post("/api/mail/inbound?token=", data={"text": "hi"})
        assert answer.status_code == 404


@pytest.mark.parametrize(
    "to", ["nobody@support.example.com", "reply+c1.00000000000000000000@support.example.com", ""]
)
def test_an_unknown_or_forged_address_is_refused(client, app, ada, to):
    answer = client.post(
        f"/api/mail/inbound?token={TOKEN}", data={"recipient": to, "body-plain": "hi"}
    )
    assert answer.status_code == 404 and answer.json["error"]["code"] == "unknown_address"
    assert bodies(app, ada.id) == []


def test_a_reply_of_quotes_only_is_refused(client, app, ada):
    answer = client.post(
        f"/api/mail/inbound?token={TOKEN}",
        json={"OriginalRecipient": address_of(app, ada.id), "TextBody": "> quoted only"},
    )
    assert answer.status_code == 422
    assert bodies(app, ada.id) == []


@pytest.mark.parametrize("body", ["[]", "null", "not json"])
def test_a_malformed_json_post_is_a_bad_request(client, body):
    answer = client.post(
        f"/api/mail/inbound?token={TOKEN}", data=body, content_type="application/json"
    )
    assert answer.status_code == 400


@pytest.mark.parametrize(
    "headers",
    [["X-Spam-Status: No"], [{"Name": 7, "Value": "x"}], [{"Value": "no name"}], "Message-ID"],
)
def test_odd_headers_in_a_postmark_shape_are_ignored_not_a_500(client, app, ada, headers):
    answer = client.post(
        f"/api/mail/inbound?token={TOKEN}",
        json={
            "OriginalRecipient": address_of(app, ada.id),
            "TextBody": "Thanks!",
            "Headers": headers,
        },
    )
    assert answer.status_code == 201, answer.json
    assert bodies(app, ada.id) == [("visitor", "Thanks!")]


@pytest.mark.parametrize(
    "shape",
    [
        lambda to: {"json": {"To": to, "TextBody": "Away until Monday",
                             "Headers": [{"Name": "Auto-Submitted", "Value": "auto-replied"}]}},
        lambda to: {"data": {"recipient": to, "body-plain": "Away until Monday",
                             "message-headers": '[["X-Autoreply", "yes"], ["Subject", "Re"]]'}},
        lambda to: {"data": {"to": to, "text": "Away until Monday",
                             "headers": "Subject: Re\nPrecedence: auto_reply\n"}},
    ],
    ids=["postmark", "mailgun", "sendgrid"],
)  # fmt: skip
def test_an_out_of_office_reply_is_taken_with_202_and_not_posted(client, app, ada, shape):
    answer = client.post(f"/api/mail/inbound?token={TOKEN}", **shape(address_of(app, ada.id)))
    assert answer.status_code == 202, answer.json
    assert answer.json == {"ignored": "automatic_email"}
    assert bodies(app, ada.id) == []


def test_an_automatic_e_mail_to_an_unknown_address_is_still_refused(client, app, ada):
    answer = client.post(
        f"/api/mail/inbound?token={TOKEN}",
        json={"To": "someone@support.example.com", "TextBody": "Away",
              "Headers": [{"Name": "Auto-Submitted", "Value": "auto-replied"}]},
    )  # fmt: skip
    assert answer.status_code == 404
    assert answer.json["error"]["code"] == "unknown_address"
